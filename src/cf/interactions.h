/*
 * interactions.h
 *		The user-item interaction matrix every recommender trains on.
 *
 * Users and items are mapped to dense indices 0..n-1 in ascending order of
 * their external (bigint) ids, so an index lookup is a binary search and
 * ties between equal scores can be broken by index, which is the same as
 * breaking them by id.  The matrix is CSR by user: the items of user u are
 * col_idx[row_ptr[u] .. row_ptr[u+1]-1], ascending, each pair once, with
 * duplicates of the source summed.
 */
#ifndef RECS_INTERACTIONS_H
#define RECS_INTERACTIONS_H

#include "postgres.h"

typedef struct RecsInteractions
{
	int32		n_users;
	int32		n_items;
	int64		nnz;			/* distinct (user, item) pairs */
	int64	   *user_ids;		/* [n_users] external ids, ascending */
	int64	   *item_ids;		/* [n_items] external ids, ascending */
	int64	   *row_ptr;		/* [n_users + 1] */
	int32	   *col_idx;		/* [nnz] item index */
	float4	   *values;			/* [nnz] summed weight (1.0 per implicit event) */
	float8	   *times;			/* [nnz] latest event time (epoch s), or NULL */
	bool		catalogue;		/* items include a catalogue beyond the
								 * interactions (not stored in artifacts) */
} RecsInteractions;

/* One source row, before aggregation into the matrix. */
typedef struct RecsTriple
{
	int64		user_id;
	int64		item_id;
	float4		value;
	float8		time;			/* epoch seconds; 0 when the model has no time */
} RecsTriple;

extern RecsInteractions *RecsBuildInteractions(RecsTriple *triples, int64 n,
											   bool with_times);
extern void RecsAddItems(RecsInteractions *m, const int64 *ids, int64 n);
extern RecsInteractions *RecsTransposeInteractions(const RecsInteractions *m);
extern void RecsFreeTranspose(RecsInteractions *t);
extern int32 RecsFindId(const int64 *ids, int32 n, int64 id);

#define RecsUserIndex(m, id) RecsFindId((m)->user_ids, (m)->n_users, (id))
#define RecsItemIndex(m, id) RecsFindId((m)->item_ids, (m)->n_items, (id))

#endif							/* RECS_INTERACTIONS_H */
