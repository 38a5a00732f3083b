/*
 * interactions.c
 *		Build the CSR user-item matrix from source rows, and transpose it.
 *
 * Memory is palloc'd in the caller's context with the huge-allocation
 * variants, so a catalogue of millions of interactions is fine and an ERROR
 * frees everything with the context.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "cf/interactions.h"

/* sort triples by (user, item) */
#define ST_SORT sort_triples
#define ST_ELEMENT_TYPE RecsTriple
#define ST_COMPARE(a, b) \
	((a)->user_id < (b)->user_id ? -1 : (a)->user_id > (b)->user_id ? 1 : \
	 (a)->item_id < (b)->item_id ? -1 : (a)->item_id > (b)->item_id ? 1 : 0)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

/* sort int64 ids */
#define ST_SORT sort_ids
#define ST_ELEMENT_TYPE int64
#define ST_COMPARE(a, b) (*(a) < *(b) ? -1 : *(a) > *(b) ? 1 : 0)
#define ST_SCOPE static
#define ST_DEFINE
#include "lib/sort_template.h"

static void *
HugeAlloc(Size count, Size size)
{
	return palloc_extended(mul_size(Max(count, 1), size), MCXT_ALLOC_HUGE);
}

/*
 * Index of id in the ascending array ids[0..n-1], or -1.
 */
int32
RecsFindId(const int64 *ids, int32 n, int64 id)
{
	int32		lo = 0;
	int32		hi = n - 1;

	while (lo <= hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (ids[mid] < id)
			lo = mid + 1;
		else if (ids[mid] > id)
			hi = mid - 1;
		else
			return mid;
	}
	return -1;
}

/*
 * Build the matrix.  The triples array is sorted in place.  Duplicate
 * (user, item) pairs are summed, keeping the latest time.
 */
RecsInteractions *
RecsBuildInteractions(RecsTriple *triples, int64 n, bool with_times)
{
	RecsInteractions *m = palloc0(sizeof(RecsInteractions));
	int64	   *items;
	int64		n_items = 0;
	int64		nnz = 0;
	int32		u = -1;

	sort_triples(triples, n);

	/* distinct items, ascending */
	items = HugeAlloc(n, sizeof(int64));
	for (int64 i = 0; i < n; i++)
		items[i] = triples[i].item_id;
	sort_ids(items, n);
	for (int64 i = 0; i < n; i++)
		if (n_items == 0 || items[n_items - 1] != items[i])
			items[n_items++] = items[i];
	if (n_items > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many distinct items: %lld", (long long) n_items)));
	m->n_items = (int32) n_items;
	m->item_ids = items;

	/* distinct users and pairs: triples are sorted by (user, item) */
	m->user_ids = HugeAlloc(n, sizeof(int64));
	m->row_ptr = HugeAlloc(n + 1, sizeof(int64));
	m->col_idx = HugeAlloc(n, sizeof(int32));
	m->values = HugeAlloc(n, sizeof(float4));
	m->times = with_times ? HugeAlloc(n, sizeof(float8)) : NULL;

	for (int64 i = 0; i < n; i++)
	{
		const RecsTriple *t = &triples[i];
		bool		new_user = (i == 0 || triples[i - 1].user_id != t->user_id);

		if (new_user)
		{
			if (u == PG_INT32_MAX - 1)
				ereport(ERROR,
						(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
						 errmsg("too many distinct users")));
			u++;
			m->user_ids[u] = t->user_id;
			m->row_ptr[u] = nnz;
		}
		if (!new_user && triples[i - 1].item_id == t->item_id)
		{
			/* duplicate pair: sum, keep the latest time */
			m->values[nnz - 1] += t->value;
			if (with_times && t->time > m->times[nnz - 1])
				m->times[nnz - 1] = t->time;
			continue;
		}
		m->col_idx[nnz] = RecsFindId(items, m->n_items, t->item_id);
		m->values[nnz] = t->value;
		if (with_times)
			m->times[nnz] = t->time;
		nnz++;
	}
	m->n_users = u + 1;
	m->row_ptr[m->n_users] = nnz;
	m->nnz = nnz;
	return m;
}

/*
 * Free what RecsTransposeInteractions allocated (it shares the id arrays
 * with the matrix it transposed).
 */
void
RecsFreeTranspose(RecsInteractions *t)
{
	pfree(t->row_ptr);
	pfree(t->col_idx);
	pfree(t->values);
	if (t->times)
		pfree(t->times);
	pfree(t);
}

/*
 * Transpose: rows become items, columns users (CSC of the original).  Row
 * indices stay ascending because we walk users in order.
 */
RecsInteractions *
RecsTransposeInteractions(const RecsInteractions *m)
{
	RecsInteractions *t = palloc0(sizeof(RecsInteractions));
	int64	   *fill;

	t->n_users = m->n_items;
	t->n_items = m->n_users;
	t->nnz = m->nnz;
	t->user_ids = m->item_ids;
	t->item_ids = m->user_ids;
	t->row_ptr = HugeAlloc(m->n_items + 1, sizeof(int64));
	t->col_idx = HugeAlloc(m->nnz, sizeof(int32));
	t->values = HugeAlloc(m->nnz, sizeof(float4));
	t->times = m->times ? HugeAlloc(m->nnz, sizeof(float8)) : NULL;

	memset(t->row_ptr, 0, sizeof(int64) * (m->n_items + 1));
	for (int64 p = 0; p < m->nnz; p++)
		t->row_ptr[m->col_idx[p] + 1]++;
	for (int32 i = 0; i < m->n_items; i++)
		t->row_ptr[i + 1] += t->row_ptr[i];

	fill = HugeAlloc(m->n_items, sizeof(int64));
	memcpy(fill, t->row_ptr, sizeof(int64) * m->n_items);
	for (int32 u = 0; u < m->n_users; u++)
	{
		for (int64 p = m->row_ptr[u]; p < m->row_ptr[u + 1]; p++)
		{
			int64		q = fill[m->col_idx[p]]++;

			t->col_idx[q] = u;
			t->values[q] = m->values[p];
			if (t->times)
				t->times[q] = m->times[p];
		}
	}
	pfree(fill);
	return t;
}

/*
 * Add the ids in ids[0..n-1] (any order, repeats allowed) to m's items, as
 * items without interactions: a model's catalogue can hold items nobody has
 * used yet, which content similarity and exploration can still reach.
 * Existing item indices shift to keep item_ids ascending; the matrix is
 * changed in place, its arrays reallocated in m's memory context.
 */
void
RecsAddItems(RecsInteractions *m, const int64 *ids, int64 n)
{
	MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(m->item_ids));
	int64	   *extra = HugeAlloc(Max(n, 1), sizeof(int64));
	int64		n_extra = 0;
	int64	   *merged;
	int32	   *new_index;
	int64		a = 0,
				b = 0;
	int32		total = 0;

	for (int64 i = 0; i < n; i++)
		if (RecsFindId(m->item_ids, m->n_items, ids[i]) < 0)
			extra[n_extra++] = ids[i];
	if (n_extra == 0)
	{
		pfree(extra);
		MemoryContextSwitchTo(old);
		return;
	}
	sort_ids(extra, n_extra);

	merged = HugeAlloc(m->n_items + n_extra, sizeof(int64));
	new_index = HugeAlloc(Max(m->n_items, 1), sizeof(int32));
	while (a < m->n_items || b < n_extra)
	{
		if (b < n_extra && total > 0 && merged[total - 1] == extra[b])
		{
			b++;				/* a repeated new id */
			continue;
		}
		if (b >= n_extra || (a < m->n_items && m->item_ids[a] < extra[b]))
		{
			new_index[a] = total;
			merged[total++] = m->item_ids[a++];
		}
		else
			merged[total++] = extra[b++];
		if (total == PG_INT32_MAX)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("too many items: at most %d", PG_INT32_MAX - 1)));
	}
	for (int64 p = 0; p < m->nnz; p++)
		m->col_idx[p] = new_index[m->col_idx[p]];
	pfree(m->item_ids);
	m->item_ids = merged;
	m->n_items = total;
	pfree(new_index);
	pfree(extra);
	MemoryContextSwitchTo(old);
}
