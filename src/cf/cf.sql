--
-- Neighbourhood collaborative filtering: similarities and predicted ratings
-- from a trained model (src/cf/similarity.c, src/serve/predict.c).
--
-- The similarity helpers read the model's training matrix, so they work
-- with a model of any algorithm; they return the raw similarity, without
-- the model's min_overlap, shrinkage or significance weighting.  All three
-- read the catalogue through SPI, hence PARALLEL RESTRICTED; they are not
-- STRICT because a NULL user, item or method is an error, while a NULL
-- model means the default model.
--

CREATE FUNCTION recs_similarity(user_a bigint, user_b bigint, method text DEFAULT 'pearson',
								model text DEFAULT NULL)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'recs_similarity' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_similarity(bigint, bigint, text, text) IS 'similarity of two users'' ratings in a model''s training data (method pearson or cosine); NULL when a user is unknown, they share no item, or it is undefined';

CREATE FUNCTION recs_item_similarity(item_a bigint, item_b bigint, method text DEFAULT 'cosine',
									 model text DEFAULT NULL)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'recs_item_similarity' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_item_similarity(bigint, bigint, text, text) IS 'similarity of two items'' ratings in a model''s training data (method cosine, adjusted_cosine, pearson or jaccard); NULL when an item is unknown, they share no user, or it is undefined';

CREATE FUNCTION recs_predict(user_id bigint, item_id bigint, model text DEFAULT NULL)
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'recs_predict' LANGUAGE C STABLE PARALLEL RESTRICTED;
COMMENT ON FUNCTION recs_predict(bigint, bigint, text) IS 'a model''s predicted rating of an item by a user; NULL when the model has no basis for one';
