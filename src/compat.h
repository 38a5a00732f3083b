/*
 * compat.h
 *		Every PostgreSQL-version difference recs cares about, in one place.
 *
 * The target is PostgreSQL 15 (Debian 12).  Code elsewhere is written against
 * the newest API we know of and this header back-fills it for older servers,
 * so that supporting 16 and 17 means editing this file only.
 */
#ifndef RECS_COMPAT_H
#define RECS_COMPAT_H

#include "postgres.h"

#if PG_VERSION_NUM < 150000
#error "recs requires PostgreSQL 15 or later"
#endif

/*
 * Soft input errors (PostgreSQL 16+).  Input functions report bad input with
 * ereturn(escontext, dummy, ...), which lets pg_input_is_valid() and COPY ...
 * ON_ERROR ask "is this valid?" without a subtransaction.  PostgreSQL 15 has
 * no such mechanism, so there ereturn() is an ordinary ERROR.
 */
#if PG_VERSION_NUM >= 160000
#include "nodes/miscnodes.h"
#define RECS_ESCONTEXT(fcinfo) ((fcinfo)->context)
#else
#define RECS_ESCONTEXT(fcinfo) ((Node *) NULL)
#define ereturn(context, dummy_value, ...) \
	do { \
		(void) (context); \
		ereport(ERROR, __VA_ARGS__); \
		return dummy_value; \
	} while (0)
#define SOFT_ERROR_OCCURRED(escontext) ((void) (escontext), false)
#endif

/*
 * initReadOnlyStringInfo() (17+) wraps existing bytes for the pq_getmsg*()
 * readers without copying them.
 */
#if PG_VERSION_NUM < 170000
#include "lib/stringinfo.h"
static inline void
initReadOnlyStringInfo(StringInfo str, char *data, int len)
{
	str->data = data;
	str->len = len;
	str->maxlen = 0;			/* read only: never appended to */
	str->cursor = 0;
}
#endif

#endif							/* RECS_COMPAT_H */
