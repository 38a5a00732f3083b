/*
 * content.h
 *		Feature specs and sparse feature vectors of the "content" algorithm.
 *
 * content_features.c parses the "features" / "user_features" params and
 * turns a table of items (or users) into one sparse vector per row;
 * content.c trains, stores and serves the model on those vectors.
 */
#ifndef RECS_CONTENT_H
#define RECS_CONTENT_H

#include "postgres.h"

#include "utils/jsonb.h"

#include "cf/interactions.h"

typedef enum ContentFeatureType
{
	CONTENT_CATEGORICAL,
	CONTENT_TAGS,
	CONTENT_TEXT,
	CONTENT_NUMERIC,
	CONTENT_EMBEDDING
} ContentFeatureType;

/* One column of a features param. */
typedef struct ContentFeature
{
	char	   *column;
	ContentFeatureType type;
	double		weight;			/* >= 0 */
	char	   *config;			/* text search configuration (text only) */
} ContentFeature;

/* A table with an id column and feature columns, as named in params. */
typedef struct ContentSpec
{
	char	   *table;			/* as written in params */
	char	   *id_column;
	int			n_features;
	ContentFeature *features;
} ContentSpec;

/*
 * Sparse vectors of n_rows rows (items or users, as indices) over n_dims
 * named dimensions, CSR, each row's dims ascending.  center and scale say
 * how a raw value maps to a dimension's value for one new row (used for
 * user features): numeric dims (x - center) * scale, categorical dims
 * scale.
 */
typedef struct ContentVectors
{
	int32		n_rows;
	int32		n_dims;
	int64	   *ptr;			/* [n_rows + 1] */
	int32	   *idx;			/* [ptr[n_rows]] */
	float4	   *val;
	char	  **dim_names;		/* [n_dims] */
	float8	   *center;			/* [n_dims] */
	float8	   *scale;			/* [n_dims] */
} ContentVectors;

/*
 * Parse params->key (an object of features) into spec.  When check is
 * set, also resolve the table and columns in the catalogs and reject
 * columns whose types do not fit.  user restricts the types to
 * categorical and numeric.
 */
extern void ContentParseSpec(Jsonb *params, const char *table_key,
							 const char *id_key, const char *default_id,
							 const char *features_key, bool user, bool check,
							 ContentSpec *spec);

/* the table of spec, resolved like regclass input; errors when missing */
extern Oid	ContentResolveTable(const char *table, bool missing_ok);

/*
 * Read spec's table with SPI (connecting on its own) and vectorise every
 * row whose id is among ids[0..n_ids-1] (ascending), allocating the result
 * in the current memory context.
 */
extern ContentVectors *ContentVectorise(const ContentSpec *spec,
										const int64 *ids, int32 n_ids);

extern const char *ContentFeatureTypeName(ContentFeatureType type);

#endif							/* RECS_CONTENT_H */
