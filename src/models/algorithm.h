/*
 * algorithm.h
 *		The interface every recommender algorithm implements.
 *
 * The framework (src/registry) reads the source into a RecsInteractions
 * matrix, calls train(), and stores the matrix, the item popularity used
 * for cold-start fallback, and whatever train() wrote, as one artifact.
 * At serving time it loads the artifact once per backend and calls
 * score_user() and friends on the loaded model.  An algorithm never touches
 * SPI or the catalogs: it sees matrices and its params.
 */
#ifndef RECS_ALGORITHM_H
#define RECS_ALGORITHM_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/jsonb.h"

#include "cf/interactions.h"
#include "registry/artifact.h"

typedef struct RecsLoadedModel RecsLoadedModel;

/* One reason a model recommends an item, for recs_explain. */
typedef struct RecsEvidence
{
	const char *reason;
	int64		evidence_item;	/* an item id, or -1 for none */
	float8		weight;
} RecsEvidence;

/* A factor model's learned matrices, row-major, one row per user/item. */
typedef struct RecsFactors
{
	int32		factors;		/* columns */
	const float4 *users;		/* [n_users x factors] */
	const float4 *items;		/* [n_items x factors] */
	const float4 *item_bias;	/* [n_items], or NULL */
} RecsFactors;

typedef struct RecsAlgorithm
{
	const char *name;

	/*
	 * Whether scores of items without training interactions (catalogue
	 * items nobody has used yet) mean something.  When false, serving and
	 * evaluation treat such items as unscored: a collaborative model's 0
	 * for an item it never saw is no opinion, not a low one.
	 */
	bool		scores_unseen_items;

	/*
	 * Reject bad params at recs_create_model time (22023), so that training
	 * cannot fail on them later.  has_weight/has_time say which optional
	 * columns the model has.
	 */
	void		(*check_params) (Jsonb *params, bool has_weight, bool has_time);

	/* Learn from data and append the learned parameters to out. */
	void		(*train) (const RecsInteractions *data, Jsonb *params,
						  RecsArtifactWriter *out);

	/* Read back what train() wrote; returns the algorithm's state. */
	void	   *(*load) (RecsArtifactReader *in, const RecsInteractions *data,
						 Jsonb *params);

	/*
	 * Ranking scores of every item for a known user (index into data),
	 * higher is better.  scores has n_items slots.
	 */
	void		(*score_user) (const RecsLoadedModel *model, int32 user,
							   float4 *scores);

	/*
	 * Optional: ranking scores for a user the model was not trained on,
	 * from that user's interactions (item indices into data, with their
	 * weights), e.g. by folding the user into a factor model.  Same
	 * conventions as score_user.
	 */
	void		(*score_history) (const RecsLoadedModel *model, const int32 *items,
								  const float4 *values, int n, float4 *scores);

	/*
	 * Optional: item-item similarity for recs_similar_items; scores has
	 * n_items slots; returns false if the algorithm has no such notion.
	 */
	bool		(*score_similar_items) (const RecsLoadedModel *model, int32 item,
										float4 *scores);

	/*
	 * Optional: predicted rating of item by user (both indices into data)
	 * for recs_predict; returns false when the model has no basis for one.
	 */
	bool		(*predict) (const RecsLoadedModel *model, int32 user, int32 item,
							float8 *rating);

	/*
	 * Optional: why the model scores item for user (indices), most weighty
	 * first, at most max entries; returns how many.  Without it,
	 * recs_explain uses item similarity to the user's items.
	 */
	int			(*explain) (const RecsLoadedModel *model, int32 user, int32 item,
							RecsEvidence *evidence, int max);

	/* Optional: the factor matrices of a factor model, for recs_export. */
	bool		(*get_factors) (const RecsLoadedModel *model, RecsFactors *factors);

	/*
	 * Optional: ranking scores for a user with no interactions at all (not
	 * in the model, nothing in the source), from what else is known about
	 * them, such as demographics in a user features table.  The caller is
	 * connected to SPI.  Returns false when there is nothing to go on; the
	 * cold-start chain then falls back to popularity.  *source names what
	 * produced the scores (for recs_topk's source column).
	 */
	bool		(*score_cold_user) (const RecsLoadedModel *model, int64 user_id,
									float4 *scores, const char **source);

	/*
	 * Optional: name what produced each of n ranked items for user (an
	 * index, or -1 for a user scored through score_history), e.g. the
	 * members of a hybrid.  sources[i] left NULL keeps the default.
	 */
	void		(*row_sources) (const RecsLoadedModel *model, int32 user,
								const int32 *items, int n, const char **sources);
} RecsAlgorithm;

/* A model version loaded into a backend. */
struct RecsLoadedModel
{
	int64		version_id;		/* recs.model_versions.id: never reused */
	int32		version;
	char	   *name;
	const RecsAlgorithm *algorithm;
	Jsonb	   *params;
	RecsInteractions *data;		/* training matrix, CSR by user */
	float4	   *popularity;		/* [n_items] fallback scores */
	void	   *state;			/* the algorithm's own */
	/* where live interactions of users unknown to the model come from */
	Oid			source;
	char	   *user_column;
	char	   *item_column;
	char	   *weight_column;	/* NULL: implicit */
	bool		online;			/* online updates on (recs.user_updates) */
	TimestampTz trained_at;		/* when this version was trained */
	/* computed on first need, in the context holding this struct */
	int32	   *item_users;		/* users per item */
	int32	   *popular_order;	/* items by popularity, best first */
	MemoryContext context;		/* holds all of the above */
};

extern const RecsAlgorithm *RecsFindAlgorithm(const char *name, bool missing_ok);
extern const int32 *RecsItemUsers(const RecsLoadedModel *model);
extern int	RecsEvidenceAdd(RecsEvidence *evidence, int n, int max, const RecsEvidence *e);
extern int	RecsExplainBySimilarity(const RecsLoadedModel *model, int32 user, int32 item,
									RecsEvidence *evidence, int max);

/* the algorithms (src/models/<name>.c) */
extern const RecsAlgorithm RecsPopularAlgorithm;
extern const RecsAlgorithm RecsBprMfAlgorithm;
extern const RecsAlgorithm RecsNcfAlgorithm;
extern const RecsAlgorithm RecsIalsAlgorithm;
extern const RecsAlgorithm RecsEaseAlgorithm;
extern const RecsAlgorithm RecsItemKnnAlgorithm;
extern const RecsAlgorithm RecsUserKnnAlgorithm;
extern const RecsAlgorithm RecsContentAlgorithm;
extern const RecsAlgorithm RecsHybridAlgorithm;

extern const RecsAlgorithm RecsFactorsAlgorithm;
extern void RecsFactorsWrite(RecsArtifactWriter *out, int32 k, int32 n_users,
							 int32 n_items, const float4 *users, const float4 *items,
							 const float4 *bias);

/* item popularity under "popular" params; every model's cold-start fallback */
extern float4 *RecsItemPopularity(const RecsInteractions *data, Jsonb *params);

/* params helpers: typed lookups with a clear 22023 on a wrong type */
extern bool RecsParamNumber(Jsonb *params, const char *key, double *value);
extern bool RecsParamString(Jsonb *params, const char *key, char **value);
extern int64 RecsParamInt(Jsonb *params, const char *key, int64 default_value,
						  int64 min, int64 max);
extern double RecsParamPositive(Jsonb *params, const char *key, double default_value);
extern double RecsParamNonNegative(Jsonb *params, const char *key, double default_value);
extern int32 RecsParamCount(Jsonb *params, const char *key, int32 default_value);
extern void RecsCheckParamKeys(Jsonb *params, const char *algorithm,
							   const char *const *allowed);
extern void RecsCheckCommonParams(Jsonb *params, bool has_time);

/* steps of the cold-start chain (RecsColdStartChain), tried in this order */
#define RECS_COLD_FOLD_IN		0x01	/* the user's live interactions */
#define RECS_COLD_USER_FEATURES	0x02	/* score_cold_user */
#define RECS_COLD_POPULAR		0x04	/* always last */
extern int	RecsColdStartChain(Jsonb *params);

/* exploration puts a fresh item at every N-th position, N at most this */
#define RECS_MAX_EXPLORATION_EVERY 1000
extern Jsonb *RecsParamObject(Jsonb *params, const char *key);

#endif							/* RECS_ALGORITHM_H */
