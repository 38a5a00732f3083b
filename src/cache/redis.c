/*
 * redis.c
 *		A small Redis client over hiredis for the cache: one connection per
 *		process, pipelined commands, timeouts, a circuit breaker, counters.
 *
 * Design constraints:
 *	- Never block inside hiredis.  The connection is non-blocking
 *	  (redisConnectNonBlock); every wait for the socket is a WaitLatchOrSocket
 *	  on MyLatch with recs.redis_timeout_ms as the limit, followed by
 *	  CHECK_FOR_INTERRUPTS, so a query cancel, a worker's SIGTERM and
 *	  postmaster death always win over a slow Redis.  Backends and the worker
 *	  use the same code.
 *	- Never raise an ERROR for a Redis problem: a failure drops the
 *	  connection, opens the circuit breaker for recs.cache_breaker_seconds
 *	  (no Redis traffic meanwhile), is counted, and makes the caller fall
 *	  back to computing.
 *	- hiredis objects never outlive a call: replies are copied into palloc'd
 *	  memory and freed at once, and the context is freed before anything
 *	  that may ereport (CHECK_FOR_INTERRUPTS included), so an ERROR or FATAL
 *	  cannot leak them or leave a half-read reply on a live connection.
 *	- The password in recs.redis_url goes only to AUTH, never into a
 *	  message.
 */
#include "postgres.h"

#include <sys/socket.h>

#include <hiredis.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cache/cache.h"

RecsRedisStats RecsRedis;

static redisContext *conn = NULL;
static char *conn_url = NULL;	/* the recs.redis_url conn was made for */

/*
 * What a wait for the connection's socket waits on: the latch, postmaster
 * death and the socket, made once per connection (WaitLatchOrSocket would
 * create and destroy an epoll set on every wait, a good part of a cache
 * hit's cost).
 */
static WaitEventSet *conn_waits = NULL;
static int	conn_socket_event = -1;
static TimestampTz breaker_until = 0;
static bool exit_callback_registered = false;

/* The parts of a redis:// URL. */
typedef struct RedisTarget
{
	char		host[256];
	int			port;
	char		password[256];	/* empty: no AUTH */
	int			db;
} RedisTarget;

static void
Disconnect(void)
{
	if (conn_waits != NULL)
	{
		FreeWaitEventSet(conn_waits);
		conn_waits = NULL;
		conn_socket_event = -1;
	}
	if (conn != NULL)
	{
		redisFree(conn);
		conn = NULL;
	}
	if (conn_url != NULL)
	{
		pfree(conn_url);
		conn_url = NULL;
	}
}

static void
DisconnectAtExit(int code, Datum arg)
{
	Disconnect();
}

bool
RecsRedisEnabled(void)
{
	return recs_redis_url != NULL && recs_redis_url[0] != '\0';
}

/* Is the breaker open?  *until (if not NULL) gets when it closes. */
bool
RecsRedisBreakerOpen(TimestampTz *until)
{
	if (until)
		*until = breaker_until;
	return breaker_until != 0 && GetCurrentTimestamp() < breaker_until;
}

/*
 * Record a failure: drop the connection, open the breaker, count it.  The
 * text is kept for recs_cache_stats() and logged at DEBUG1 only, so that a
 * Redis outage does not flood the server log or the client.
 */
void
RecsRedisFail(const char *what, const char *detail)
{
	/* detail may point into the context: copy it before freeing that */
	snprintf(RecsRedis.last_error, sizeof(RecsRedis.last_error), "%s%s%s",
			 what, detail ? ": " : "", detail ? detail : "");
	Disconnect();
	RecsRedis.errors++;
	breaker_until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
												(int64) recs_cache_breaker_seconds * 1000);
	elog(DEBUG1, "recs cache: %s", RecsRedis.last_error);
}

/*
 * Parse redis://[[user]:password@]host[:port][/db].  Returns false, with
 * *error set, for anything else.
 */
static bool
ParseUrl(const char *url, RedisTarget *t, const char **error)
{
	const char *p;
	const char *at;
	const char *hostend;
	const char *slash;

	memset(t, 0, sizeof(*t));
	t->port = 6379;
	if (strncmp(url, "redis://", 8) != 0)
	{
		*error = "recs.redis_url must start with redis://";
		return false;
	}
	p = url + 8;
	slash = strchr(p, '/');
	at = strchr(p, '@');
	if (at != NULL && (slash == NULL || at < slash))
	{
		const char *colon = memchr(p, ':', at - p);
		const char *pw = colon ? colon + 1 : p;

		if (at - pw >= (ptrdiff_t) sizeof(t->password))
		{
			*error = "the password in recs.redis_url is too long";
			return false;
		}
		memcpy(t->password, pw, at - pw);
		p = at + 1;
	}
	hostend = p + strcspn(p, ":/");
	if (hostend == p || hostend - p >= (ptrdiff_t) sizeof(t->host))
	{
		*error = "recs.redis_url has no valid host";
		return false;
	}
	memcpy(t->host, p, hostend - p);
	p = hostend;
	if (*p == ':')
	{
		char	   *end;
		long		port = strtol(p + 1, &end, 10);

		if (end == p + 1 || port <= 0 || port > 65535 || (*end != '\0' && *end != '/'))
		{
			*error = "recs.redis_url has an invalid port";
			return false;
		}
		t->port = (int) port;
		p = end;
	}
	if (*p == '/' && p[1] != '\0')
	{
		char	   *end;
		long		db = strtol(p + 1, &end, 10);

		if (end == p + 1 || *end != '\0' || db < 0 || db > 1000000)
		{
			*error = "recs.redis_url has an invalid database number";
			return false;
		}
		t->db = (int) db;
	}
	else if (*p != '\0' && strcmp(p, "/") != 0)
	{
		*error = "recs.redis_url has trailing characters";
		return false;
	}
	return true;
}

/*
 * Wait until the socket is ready for `events` (WL_SOCKET_READABLE or
 * WL_SOCKET_WRITEABLE), for at most recs.redis_timeout_ms without progress.
 * Returns false on timeout.  Interrupts are served while waiting: before
 * that, the connection is dropped, since an ERROR or FATAL out of
 * CHECK_FOR_INTERRUPTS leaves it in an unknown state.
 */
static bool
WaitSocket(int events)
{
	TimestampTz start = GetCurrentTimestamp();

	for (;;)
	{
		long		left = recs_redis_timeout_ms -
			TimestampDifferenceMilliseconds(start, GetCurrentTimestamp());
		int			rc;
		WaitEvent	event;

		if (left <= 0)
			return false;
		if (conn_waits == NULL)
		{
			conn_waits = CreateWaitEventSet(TopMemoryContext, 3);
			AddWaitEventToSet(conn_waits, WL_LATCH_SET, PGINVALID_SOCKET, MyLatch, NULL);
			AddWaitEventToSet(conn_waits, WL_EXIT_ON_PM_DEATH, PGINVALID_SOCKET, NULL, NULL);
			conn_socket_event = AddWaitEventToSet(conn_waits, events, conn->fd, NULL, NULL);
		}
		else
			ModifyWaitEvent(conn_waits, conn_socket_event, events, NULL);
		rc = WaitEventSetWait(conn_waits, left, &event, 1, PG_WAIT_EXTENSION) > 0 ?
			event.events : WL_TIMEOUT;
		if (rc & WL_LATCH_SET)
		{
			ResetLatch(MyLatch);
			if (INTERRUPTS_PENDING_CONDITION())
			{
				Disconnect();
				CHECK_FOR_INTERRUPTS();
				/* not an interrupt that throws (e.g. a barrier): give up */
				return false;
			}
		}
		if (rc & events)
			return true;
	}
}

/* Send what hiredis has buffered. */
static bool
Flush(void)
{
	int			done = 0;

	while (!done)
	{
		if (redisBufferWrite(conn, &done) == REDIS_ERR)
		{
			RecsRedisFail("could not send to Redis", conn->errstr);
			return false;
		}
		if (!done && !WaitSocket(WL_SOCKET_WRITEABLE))
		{
			RecsRedisFail("timed out sending to Redis", NULL);
			return false;
		}
		if (conn == NULL)
			return false;
	}
	return true;
}

/*
 * Read one reply and copy it into cmd; the redisReply is freed here, before
 * anything can ereport.  Array replies are not used by the cache and count
 * as a protocol error.
 */
static bool
ReadReply(RecsRedisCommand *cmd)
{
	void	   *r = NULL;
	redisReply *reply;

	for (;;)
	{
		if (redisGetReplyFromReader(conn, &r) == REDIS_ERR)
		{
			RecsRedisFail("could not parse the reply of Redis", conn->errstr);
			return false;
		}
		if (r != NULL)
			break;
		/* the reply may be there already: read before sleeping */
		if (redisBufferRead(conn) == REDIS_ERR)
		{
			RecsRedisFail("could not read from Redis", conn->errstr);
			return false;
		}
		if (redisGetReplyFromReader(conn, &r) == REDIS_ERR)
		{
			RecsRedisFail("could not parse the reply of Redis", conn->errstr);
			return false;
		}
		if (r != NULL)
			break;
		if (!WaitSocket(WL_SOCKET_READABLE))
		{
			if (conn != NULL)
				RecsRedisFail("timed out waiting for Redis", NULL);
			return false;
		}
		if (redisBufferRead(conn) == REDIS_ERR)
		{
			RecsRedisFail("could not read from Redis", conn->errstr);
			return false;
		}
	}

	reply = (redisReply *) r;
	cmd->reply_type = reply->type;
	cmd->reply_str = NULL;
	cmd->reply_len = 0;
	cmd->reply_integer = 0;
	switch (reply->type)
	{
		case REDIS_REPLY_STRING:
		case REDIS_REPLY_STATUS:
		case REDIS_REPLY_ERROR:
			/* palloc cannot fail softly: copy with the reply still held */
			cmd->reply_str = palloc_extended(reply->len + 1, MCXT_ALLOC_NO_OOM);
			if (cmd->reply_str == NULL)
			{
				freeReplyObject(reply);
				RecsRedisFail("out of memory for a Redis reply", NULL);
				return false;
			}
			memcpy(cmd->reply_str, reply->str, reply->len);
			cmd->reply_str[reply->len] = '\0';
			cmd->reply_len = reply->len;
			break;
		case REDIS_REPLY_INTEGER:
			cmd->reply_integer = reply->integer;
			break;
		case REDIS_REPLY_NIL:
			break;
		default:
			freeReplyObject(reply);
			RecsRedisFail("unexpected reply type from Redis", NULL);
			return false;
	}
	freeReplyObject(reply);
	return true;
}

/* Send cmds as one pipeline and read their replies into them. */
static bool
Pipeline(RecsRedisCommand *cmds, int n)
{
	for (int i = 0; i < n; i++)
	{
		if (redisAppendCommandArgv(conn, cmds[i].argc, cmds[i].argv,
								   cmds[i].argvlen) != REDIS_OK)
		{
			RecsRedisFail("could not queue a Redis command", conn->errstr);
			return false;
		}
	}
	if (!Flush())
		return false;
	for (int i = 0; i < n; i++)
		if (!ReadReply(&cmds[i]))
			return false;
	return true;
}

/*
 * Connect to recs.redis_url, authenticate and select the database, unless
 * connected to it already.
 */
static bool
Connect(void)
{
	RedisTarget t;
	const char *error;
	int			soerr = 0;
	socklen_t	len = sizeof(soerr);

	if (conn != NULL && conn_url != NULL && strcmp(conn_url, recs_redis_url) == 0)
	{
		char		byte;
		ssize_t		got;

		/*
		 * A connection kept from an earlier call may have been closed by the
		 * server meanwhile (a Redis restart): a peek that sees end of file,
		 * or an error other than "nothing to read", means reconnect now
		 * rather than fail the next command and open the breaker.
		 */
		got = recv(conn->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return true;
	}
	Disconnect();

	if (!ParseUrl(recs_redis_url, &t, &error))
	{
		RecsRedisFail(error, NULL);
		return false;
	}
	if (!exit_callback_registered)
	{
		on_proc_exit(DisconnectAtExit, (Datum) 0);
		exit_callback_registered = true;
	}

	conn = redisConnectNonBlock(t.host, t.port);
	if (conn == NULL)
	{
		RecsRedisFail("could not allocate a Redis connection", NULL);
		return false;
	}
	if (conn->err)
	{
		RecsRedisFail("could not connect to Redis", conn->errstr);
		return false;
	}
	/* the connect is in progress: writable means finished, one way or other */
	if (!WaitSocket(WL_SOCKET_WRITEABLE))
	{
		if (conn != NULL)
			RecsRedisFail("timed out connecting to Redis", NULL);
		return false;
	}
	if (getsockopt(conn->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0 || soerr != 0)
	{
		RecsRedisFail("could not connect to Redis", strerror(soerr ? soerr : errno));
		return false;
	}
	conn_url = MemoryContextStrdup(TopMemoryContext, recs_redis_url);

	if (t.password[0] != '\0' || t.db != 0)
	{
		RecsRedisCommand cmds[2];
		int			n = 0;
		char		dbtext[16];

		memset(cmds, 0, sizeof(cmds));
		if (t.password[0] != '\0')
		{
			cmds[n].argc = 2;
			cmds[n].argv[0] = "AUTH";
			cmds[n].argvlen[0] = 4;
			cmds[n].argv[1] = t.password;
			cmds[n].argvlen[1] = strlen(t.password);
			n++;
		}
		if (t.db != 0)
		{
			snprintf(dbtext, sizeof(dbtext), "%d", t.db);
			cmds[n].argc = 2;
			cmds[n].argv[0] = "SELECT";
			cmds[n].argvlen[0] = 6;
			cmds[n].argv[1] = dbtext;
			cmds[n].argvlen[1] = strlen(dbtext);
			n++;
		}
		if (!Pipeline(cmds, n))
			return false;
		for (int i = 0; i < n; i++)
			if (cmds[i].reply_type == REDIS_REPLY_ERROR)
			{
				/* the server's words, never the password */
				RecsRedisFail(i == 0 && t.password[0] != '\0' ?
							  "Redis refused AUTH" : "Redis refused SELECT",
							  cmds[i].reply_str);
				return false;
			}
	}
	return true;
}

/*
 * Run cmds (one pipeline) against recs.redis_url.  Returns false, with the
 * failure recorded, when the cache is off, the breaker is open, or anything
 * goes wrong; error replies of single commands are left to the caller.
 */
bool
RecsRedisRun(RecsRedisCommand *cmds, int n)
{
	TimestampTz start;
	double		ms;

	if (!RecsRedisEnabled())
		return false;
	if (RecsRedisBreakerOpen(NULL))
	{
		RecsRedis.skipped++;
		return false;
	}
	start = GetCurrentTimestamp();
	if (!Connect() || !Pipeline(cmds, n))
		return false;
	ms = (double) (GetCurrentTimestamp() - start) / 1000.0;
	RecsRedis.requests++;
	RecsRedis.total_ms += ms;
	if (ms > RecsRedis.max_ms)
		RecsRedis.max_ms = ms;
	breaker_until = 0;
	return true;
}
