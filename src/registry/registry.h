/*
 * registry.h
 *		Models, their versions and their sources, as stored in schema recs.
 */
#ifndef RECS_REGISTRY_H
#define RECS_REGISTRY_H

#include "postgres.h"

#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/jsonb.h"

#include "cf/interactions.h"
#include "models/algorithm.h"

/* A row of recs.models: the recipe for training. */
typedef struct RecsModelSpec
{
	char	   *name;
	char	   *algorithm;
	Oid			source;
	char	   *source_name;	/* as given at creation, for error messages */
	char	   *user_column;
	char	   *item_column;
	char	   *weight_column;	/* NULL: implicit feedback */
	char	   *time_column;	/* NULL: no time */
	Jsonb	   *params;
	Oid			item_features;	/* the item catalogue, or InvalidOid */
	char	   *item_features_id;	/* its id column */
} RecsModelSpec;

/* The largest k recs_topk and friends accept. */
#define RECS_MAX_K 10000

/* train.c */
extern void RecsRegistryInit(void);
extern RecsModelSpec *RecsLookupModelSpec(const char *name, bool for_update,
										  MemoryContext target);
extern int32 RecsStoreVersion(const RecsModelSpec *spec, const RecsInteractions *data,
							  int64 rows_read, int64 rows_skipped, double seconds,
							  bytea *artifact, const char *metrics, bool activate);
extern bytea *RecsTrainArtifact(const RecsAlgorithm *algorithm,
								const RecsInteractions *data, Jsonb *params);

/* source.c */
extern void RecsCheckSource(Oid relid, const char *source_name,
							const char *user_column, const char *item_column,
							const char *weight_column, const char *time_column);
extern RecsInteractions *RecsReadSource(const RecsModelSpec *spec,
										MemoryContext target,
										int64 *rows_read, int64 *rows_skipped);

/* model_cache.c */
extern HeapTuple RecsProbeByTextKey(Oid relid, Oid pkey, const char *key, TupleDesc *desc);
extern RecsLoadedModel *RecsGetModel(const char *name);
extern RecsLoadedModel *RecsLoadModelVersion(const char *name, const int32 *version,
											  MemoryContext target);
extern RecsLoadedModel *RecsLoadArtifact(bytea *artifact, const RecsAlgorithm *algorithm,
										 Jsonb *params);
extern void RecsWriteArtifactCommon(RecsArtifactWriter *w, const RecsInteractions *data,
									Jsonb *popularity_params);

#endif							/* RECS_REGISTRY_H */
