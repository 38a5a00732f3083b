/*
 * hybrid_learn.c
 *		Learn the member weights of a hybrid ("weights": "learn").
 *
 * The hybrid's training data is split like recs_evaluate's leave_one_out:
 * every user with at least 2 interactions holds out one, the latest (ties:
 * the highest item id), or, for data without times, one drawn with
 * validation_seed; users with fewer stay whole.  Each member is trained
 * once on the rest.  Then weights on the simplex (summing to 1) are
 * searched for the one maximising the mean NDCG@k of the hybrid's
 * rankings of the held-out items, ranked as recs_topk ranks them: seen
 * items excluded, unscored items after the scored ones in popularity
 * order, each user scored as serving would score them: only by the members
 * whose "interactions" range holds the user's training interactions, and
 * with the popularity prior ("popularity", "popularity_weight") at the
 * weight the user's history gives it.  (A member "alone" in the NOTICE is
 * that member with the prior.)  With at most 3 members the search is exhaustive over a grid in
 * steps of 0.1 (11 weightings for 2 members, 66 for 3), so the pure
 * members are among the candidates; beyond 3, coordinate ascent from the
 * given weights over the same steps.
 *
 * One held-out item per user makes a noisy estimate: on MovieLens 100K
 * the members' validation NDCGs differ by less than their standard error,
 * and the weighting that happens to validate best does not generalise.  So
 * the choice follows the one-standard-error rule: among the weightings
 * whose NDCG is within one standard error (over users) of the best, the
 * one closest (L1) to the given weights, scaled to sum to 1; the given
 * weights are the prior that only clear evidence moves.  Remaining ties go
 * to the higher NDCG, then to search order, so learning is deterministic.
 *
 * Each validation user's normalised member scores are computed once and
 * kept (users x members x items floats); when that would exceed
 * HYBRID_LEARN_BUDGET bytes, an evenly spaced subset of the validation
 * users is kept instead.  A NOTICE reports the learned weights with the
 * validation NDCG of the hybrid and of each member alone.
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/memutils.h"

#include "models/hybrid.h"

/* how many bytes the cached validation scores may take */
#define HYBRID_LEARN_BUDGET ((Size) 256 * 1024 * 1024)

/* grid resolution: weights are multiples of 1 / HYBRID_LEARN_STEPS */
#define HYBRID_LEARN_STEPS 10

/* equal NDCGs (sums of a few hundred terms) differ by rounding at most */
#define HYBRID_LEARN_EPSILON 1e-12

/* coordinate ascent stops after this many rounds at the latest */
#define HYBRID_LEARN_ROUNDS 20

/* one weighting tried, and how it validated */
typedef struct Candidate
{
	float8	   *w;
	double		ndcg;
	double		se;				/* standard error of ndcg over users */
} Candidate;

typedef struct Validation
{
	const RecsInteractions *train;
	const float4 *popularity;	/* the fallback's order, on train */
	int			n_members;
	int			k;
	int32		n_users;		/* validation users kept */
	int32		n_counted;		/* validation users in the mean */
	int32	   *users;			/* [n_users] indices into train */
	int32	   *held;			/* [n_users] the held-out item, in train */
	float4	   *norms;			/* [n_users][n_members][n_items] */
	bool	   *active;			/* [n_users][n_members] by "interactions" */
	float8	   *pop_weight;		/* [n_users] the prior's weight, 0: none */
	float4	   *pop_norm;		/* [n_items] normalised popularity, or NULL */
	float8	   *combined;		/* [n_items] scratch */
	bool	   *seen;			/* [n_items] scratch, all false between users */
	float8	   *prior;			/* [n_members] given weights, summing to 1 */
	Candidate  *tried;			/* every weighting evaluated */
	int			n_tried;
	int			max_tried;
} Validation;

/*
 * Mean NDCG@k of the hybrid under weights w over the validation users: the
 * rank of each user's held-out item as RecsRankScores would place it;
 * *se is its standard error.
 */
static double
MeanNdcg(Validation *v, const float8 *w, double *se)
{
	const RecsInteractions *train = v->train;
	int32		n_items = train->n_items;
	double		total = 0.0;
	double		squares = 0.0;
	int32		n = Max(v->n_counted, 1);
	double		mean;

	for (int32 t = 0; t < v->n_users; t++)
	{
		int32		u = v->users[t];
		int32		h = v->held[t];
		const float4 *x = v->norms + (Size) t * v->n_members * n_items;
		const bool *active = v->active + (Size) t * v->n_members;
		float8		pop_weight = v->pop_weight[t];
		float4		target;
		int64		rank;

		/* served scores are float4: compare at that precision */
		for (int32 j = 0; j < n_items; j++)
			v->combined[j] = RecsHybridCombine(x, n_items, j, v->n_members, w, active,
											   pop_weight, v->pop_norm);
		for (int64 p = train->row_ptr[u]; p < train->row_ptr[u + 1]; p++)
			v->seen[train->col_idx[p]] = true;

		target = v->combined[h];
		rank = 1;
		if (target != -INFINITY)
		{
			for (int32 j = 0; j < n_items; j++)
				if (!v->seen[j] && j != h &&
					(v->combined[j] > target || (v->combined[j] == target && j < h)))
					rank++;
		}
		else
		{
			/* after every scored item, in popularity order */
			for (int32 j = 0; j < n_items; j++)
				if (!v->seen[j] && j != h &&
					(v->combined[j] != -INFINITY ||
					 v->popularity[j] > v->popularity[h] ||
					 (v->popularity[j] == v->popularity[h] && j < h)))
					rank++;
		}
		if (rank <= v->k)
		{
			double		gain = 1.0 / log2((double) rank + 1.0);

			total += gain;
			squares += gain * gain;
		}

		for (int64 p = train->row_ptr[u]; p < train->row_ptr[u + 1]; p++)
			v->seen[train->col_idx[p]] = false;
	}
	mean = total / n;
	if (se != NULL)
		*se = sqrt(Max(squares / n - mean * mean, 0.0) / n);
	return mean;
}

/*
 * What serving adds to the member weights, per validation user: which
 * members take part (param "interactions", by the user's training
 * interactions) and the popularity prior's weight s 2^(-n / h) (params
 * "popularity" h and "popularity_weight" s), as hybrid.c's ScoreMembers.
 */
static void
SwitchingAndPrior(Validation *v, Jsonb *params, const RecsHybridMember *members,
				  RecsHybridNorm norm)
{
	float8		half_life = RecsParamPositive(params, "popularity", 0.0);
	float8		at_zero = RecsParamPositive(params, "popularity_weight", 1.0);
	char	   *names[RECS_HYBRID_MAX_MEMBERS];
	int64		min_n[RECS_HYBRID_MAX_MEMBERS];
	int64		max_n[RECS_HYBRID_MAX_MEMBERS];

	for (int m = 0; m < v->n_members; m++)
		names[m] = members[m].name;
	RecsHybridInteractionRanges(params, names, v->n_members, min_n, max_n);
	v->active = palloc(sizeof(bool) * Max(v->n_users, 1) * v->n_members);
	v->pop_weight = palloc0(sizeof(float8) * Max(v->n_users, 1));
	for (int32 t = 0; t < v->n_users; t++)
	{
		int32		u = v->users[t];
		int64		n = v->train->row_ptr[u + 1] - v->train->row_ptr[u];

		for (int m = 0; m < v->n_members; m++)
			v->active[(Size) t * v->n_members + m] = n >= min_n[m] && n <= max_n[m];
		if (half_life > 0)
			v->pop_weight[t] = RecsHybridPriorWeight(half_life, at_zero, n);
	}
	if (half_life > 0)
	{
		v->pop_norm = palloc(sizeof(float4) * Max(v->train->n_items, 1));
		memcpy(v->pop_norm, v->popularity, sizeof(float4) * v->train->n_items);
		RecsHybridNormalise(v->pop_norm, v->train->n_items, norm);
	}
}

/* L1 distance of w from the prior */
static double
PriorDistance(const Validation *v, const float8 *w)
{
	double		d = 0.0;

	for (int m = 0; m < v->n_members; m++)
		d += fabs(w[m] - v->prior[m]);
	return d;
}

/* Evaluate w and remember it among the weightings tried. */
static double
Try(Validation *v, const float8 *w)
{
	Candidate  *c;

	CHECK_FOR_INTERRUPTS();
	if (v->n_tried == v->max_tried)
	{
		v->max_tried *= 2;
		v->tried = repalloc(v->tried, sizeof(Candidate) * v->max_tried);
	}
	c = &v->tried[v->n_tried++];
	c->w = palloc(sizeof(float8) * v->n_members);
	memcpy(c->w, w, sizeof(float8) * v->n_members);
	c->ndcg = MeanNdcg(v, w, &c->se);
	return c->ndcg;
}

/*
 * The weighting to keep: by the one-standard-error rule of the header,
 * among every weighting tried.  *best is the best one's NDCG.
 */
static const Candidate *
Choose(const Validation *v, const Candidate **best)
{
	const Candidate *top = NULL;
	const Candidate *chosen = NULL;

	for (int i = 0; i < v->n_tried; i++)
		if (top == NULL || v->tried[i].ndcg > top->ndcg + HYBRID_LEARN_EPSILON)
			top = &v->tried[i];
	for (int i = 0; i < v->n_tried; i++)
	{
		const Candidate *c = &v->tried[i];
		double		d;
		double		chosen_d;

		if (c->ndcg < top->ndcg - top->se - HYBRID_LEARN_EPSILON)
			continue;
		if (chosen == NULL)
		{
			chosen = c;
			continue;
		}
		d = PriorDistance(v, c->w);
		chosen_d = PriorDistance(v, chosen->w);
		if (d < chosen_d - HYBRID_LEARN_EPSILON ||
			(d <= chosen_d + HYBRID_LEARN_EPSILON &&
			 c->ndcg > chosen->ndcg + HYBRID_LEARN_EPSILON))
			chosen = c;
	}
	*best = top;
	return chosen;
}

/*
 * Every weighting with multiples of 1/STEPS summing to 1 over n_members
 * (at most 3), in lexicographic order of the first members' weights.
 */
static void
SearchGrid(Validation *v)
{
	int			n = v->n_members;
	float8		w[3];

	for (int a = 0; a <= HYBRID_LEARN_STEPS; a++)
		for (int b = 0; b <= (n >= 2 ? HYBRID_LEARN_STEPS - a : 0); b++)
		{
			if (n == 1 && a != HYBRID_LEARN_STEPS)
				continue;
			if (n == 2 && a + b != HYBRID_LEARN_STEPS)
				continue;
			w[0] = (float8) a / HYBRID_LEARN_STEPS;
			w[1] = (float8) b / HYBRID_LEARN_STEPS;
			w[2] = (float8) (HYBRID_LEARN_STEPS - a - b) / HYBRID_LEARN_STEPS;
			(void) Try(v, w);
		}
}

/*
 * Coordinate ascent from the prior: in turn, set each member's weight to
 * each multiple of 1/STEPS and scale the others to fill the rest, moving
 * on improvements, until a round improves nothing.
 */
static void
SearchCoordinates(Validation *v)
{
	int			n = v->n_members;
	float8	   *w = palloc(sizeof(float8) * n);
	float8	   *at = palloc(sizeof(float8) * n);
	double		here;
	bool		improved = true;

	memcpy(at, v->prior, sizeof(float8) * n);
	here = Try(v, at);
	for (int round = 0; improved && round < HYBRID_LEARN_ROUNDS; round++)
	{
		improved = false;
		for (int m = 0; m < n; m++)
			for (int s = 0; s <= HYBRID_LEARN_STEPS; s++)
			{
				float8		mine = (float8) s / HYBRID_LEARN_STEPS;
				float8		others = 0.0;
				double		ndcg;

				for (int i = 0; i < n; i++)
					if (i != m)
						others += at[i];
				for (int i = 0; i < n; i++)
					w[i] = i == m ? mine :
						others > 0 ? at[i] * (1.0 - mine) / others :
						(1.0 - mine) / (n - 1);
				ndcg = Try(v, w);
				if (ndcg > here + HYBRID_LEARN_EPSILON)
				{
					here = ndcg;
					memcpy(at, w, sizeof(float8) * n);
					improved = true;
				}
			}
	}
	pfree(w);
	pfree(at);
}

/*
 * data minus each validation user's held-out interaction, and the held-out
 * interactions (positions in data; -1: the user stays whole).
 */
static RecsInteractions *
SplitValidation(const RecsInteractions *data, int32 seed, int64 *held)
{
	pg_prng_state prng;
	RecsTriple *triples = palloc_extended(mul_size(sizeof(RecsTriple), Max(data->nnz, 1)),
										  MCXT_ALLOC_HUGE);
	int64		n = 0;
	RecsInteractions *train;

	pg_prng_seed(&prng, (uint64) (int64) seed);
	for (int32 u = 0; u < data->n_users; u++)
	{
		int64		begin = data->row_ptr[u];
		int64		end = data->row_ptr[u + 1];

		held[u] = -1;
		if (end - begin >= 2)
		{
			if (data->times)
			{
				/* latest; items ascend, so >= keeps the highest id on ties */
				held[u] = begin;
				for (int64 p = begin + 1; p < end; p++)
					if (data->times[p] >= data->times[held[u]])
						held[u] = p;
			}
			else
				held[u] = begin + (int64) pg_prng_uint64_range(&prng, 0, end - begin - 1);
		}
		for (int64 p = begin; p < end; p++)
		{
			if (p == held[u])
				continue;
			triples[n].user_id = data->user_ids[u];
			triples[n].item_id = data->item_ids[data->col_idx[p]];
			triples[n].value = data->values[p];
			triples[n].time = data->times ? data->times[p] : 0.0;
			n++;
		}
	}
	train = RecsBuildInteractions(triples, n, data->times != NULL);
	pfree(triples);
	/* with a catalogue, every item stays known, held out or not */
	if (data->catalogue)
	{
		RecsAddItems(train, data->item_ids, data->n_items);
		train->catalogue = true;
	}
	return train;
}

static char *
FormatWeights(const RecsHybridMember *members, int n, const float8 *w)
{
	StringInfoData s;

	initStringInfo(&s);
	for (int m = 0; m < n; m++)
		appendStringInfo(&s, "%s%s %.2f", m > 0 ? ", " : "", members[m].name, w[m]);
	return s.data;
}

/*
 * Learn weights (n_members entries, in: the given weights, out: the
 * learned ones) for members on data, as the file header describes.
 */
void
RecsHybridLearnWeights(const RecsInteractions *data, Jsonb *params,
					   const RecsHybridMember *members, int n_members,
					   RecsHybridNorm norm, int k, int32 seed, float8 *weights)
{
	MemoryContext context = AllocSetContextCreate(CurrentMemoryContext,
												  "recs hybrid weights",
												  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(context);
	int64	   *held = palloc(sizeof(int64) * Max(data->n_users, 1));
	RecsInteractions *train = SplitValidation(data, seed, held);
	int32		n_items = train->n_items;
	RecsLoadedModel **trained = palloc(sizeof(RecsLoadedModel *) * n_members);
	Validation	v;
	int32		n_held = 0;
	int32		stride = 1;
	Size		per_user = mul_size(mul_size(sizeof(float4), n_members), Max(n_items, 1));
	float8		given = 0.0;
	float8	   *alone = palloc0(sizeof(float8) * n_members);
	const Candidate *chosen;
	const Candidate *best;
	StringInfoData members_alone;

	memset(&v, 0, sizeof(v));
	v.train = train;
	v.n_members = n_members;
	v.k = k;
	v.prior = palloc(sizeof(float8) * n_members);
	for (int m = 0; m < n_members; m++)
		given += weights[m];
	for (int m = 0; m < n_members; m++)
		v.prior[m] = weights[m] / given;

	for (int32 u = 0; u < data->n_users; u++)
		n_held += held[u] >= 0;
	if (n_held == 0)
	{
		ereport(NOTICE,
				(errmsg("too little data to learn hybrid weights; keeping the given weights"),
				 errdetail("No user has the 2 interactions needed to hold one out.")));
		MemoryContextSwitchTo(old);
		MemoryContextDelete(context);
		return;
	}
	/* an evenly spaced subset of the users when all would not fit */
	if ((Size) n_held > HYBRID_LEARN_BUDGET / per_user)
		stride = (int32) ((n_held + HYBRID_LEARN_BUDGET / per_user - 1) /
						  Max(HYBRID_LEARN_BUDGET / per_user, 1));

	v.users = palloc(sizeof(int32) * n_held);
	v.held = palloc(sizeof(int32) * n_held);
	for (int32 u = 0, t = 0; u < data->n_users; u++)
	{
		if (held[u] < 0)
			continue;
		if (t++ % stride != 0)
			continue;
		v.n_counted++;
		/* an item only this user had is unknown to train: always a miss */
		v.held[v.n_users] = RecsItemIndex(train, data->item_ids[data->col_idx[held[u]]]);
		if (v.held[v.n_users] < 0)
			continue;
		v.users[v.n_users] = RecsUserIndex(train, data->user_ids[u]);
		v.n_users++;
	}

	for (int m = 0; m < n_members; m++)
	{
		bytea	   *artifact = RecsHybridTrainMember(&members[m], train);

		trained[m] = RecsHybridLoadMember(&members[m], artifact, train);
		pfree(artifact);
	}
	v.popularity = RecsItemPopularity(train, RecsParamObject(params, "fallback"));
	SwitchingAndPrior(&v, params, members, norm);
	v.norms = palloc_extended(mul_size(per_user, Max(v.n_users, 1)), MCXT_ALLOC_HUGE);
	for (int32 t = 0; t < v.n_users; t++)
	{
		CHECK_FOR_INTERRUPTS();
		for (int m = 0; m < n_members; m++)
		{
			float4	   *x = v.norms + (Size) (t * n_members + m) * n_items;

			for (int32 j = 0; j < n_items; j++)
				x[j] = -INFINITY;
			trained[m]->algorithm->score_user(trained[m], v.users[t], x);
			RecsHybridNormalise(x, n_items, norm);
		}
	}
	v.combined = palloc(sizeof(float8) * Max(n_items, 1));
	v.seen = palloc0(sizeof(bool) * Max(n_items, 1));

	v.max_tried = 64;
	v.tried = palloc(sizeof(Candidate) * v.max_tried);
	if (n_members <= 3)
		SearchGrid(&v);
	else
		SearchCoordinates(&v);
	chosen = Choose(&v, &best);

	initStringInfo(&members_alone);
	for (int m = 0; m < n_members; m++)
	{
		memset(alone, 0, sizeof(float8) * n_members);
		alone[m] = 1.0;
		appendStringInfo(&members_alone, "%s%s %.4f", m > 0 ? ", " : "",
						 members[m].name, MeanNdcg(&v, alone, NULL));
	}
	ereport(NOTICE,
			(errmsg("learned hybrid weights: %s", FormatWeights(members, n_members, chosen->w)),
			 errdetail("NDCG@%d on a validation split of %d users: %.4f; the best weights found, %s, reach %.4f (standard error %.4f); each member alone: %s.",
					   k, v.n_counted, chosen->ndcg,
					   FormatWeights(members, n_members, best->w), best->ndcg, best->se,
					   members_alone.data)));

	MemoryContextSwitchTo(old);
	memcpy(weights, chosen->w, sizeof(float8) * n_members);
	MemoryContextDelete(context);
}
