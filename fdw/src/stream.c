/*
 * stream.c
 *		TCP (and Unix-socket) streams for libmongoc that give up waiting
 *		when PostgreSQL wants to cancel the query.
 *
 * libmongoc waits for a reply in poll(), which it restarts after a signal,
 * so a cancel or statement_timeout would only be noticed when the reply
 * came, up to socket_timeout_ms later with a stalled server.  The stream
 * initiator installed by connection.c (for connections without TLS)
 * connects the socket itself with libmongoc's public socket API and puts a
 * thin stream between the socket and libmongoc's buffering: a read first
 * waits for data in slices of MONGO_INTERRUPT_POLL_MS and fails as soon as
 * a cancel, a statement_timeout or a termination is pending.  libmongoc
 * then drops the connection (it cannot know where the reply would have
 * ended), the caller reaches CHECK_FOR_INTERRUPTS and raises the usual
 * error, and the next command reconnects.
 *
 * The wait happens below libmongoc's buffered stream, on the raw socket, so
 * that bytes already buffered are never waited for.  Everything else is
 * delegated to libmongoc's own socket stream.  TLS connections keep
 * libmongoc's default streams (poll() on the socket would not see what the
 * TLS layer has buffered), and so wait for the reply as before.
 */
#include "postgres.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "miscadmin.h"

#include "recs_mongo_fdw.h"

/* How often a waiting read looks for a pending cancel, in milliseconds. */
#define MONGO_INTERRUPT_POLL_MS 50

/* Our stream's type tag: distinct from libmongoc's own (1 to 7). */
#define MONGO_STREAM_INTERRUPTIBLE 0x5243

typedef struct InterruptibleStream
{
	mongoc_stream_t vtable;		/* must be first */
	mongoc_stream_t *base;		/* libmongoc's socket stream */
	mongoc_socket_t *socket;
} InterruptibleStream;

/*
 * Read only the flags the signal handlers set: nothing here may raise an
 * error, since libmongoc's frames are on the stack.
 */
static bool
CancelPending(void)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

#define BASE(stream) (((InterruptibleStream *) (stream))->base)

static void
IStreamDestroy(mongoc_stream_t *stream)
{
	mongoc_stream_destroy(BASE(stream));
	bson_free(stream);
}

static void
IStreamFailed(mongoc_stream_t *stream)
{
	mongoc_stream_failed(BASE(stream));
	bson_free(stream);
}

static int
IStreamClose(mongoc_stream_t *stream)
{
	return mongoc_stream_close(BASE(stream));
}

static int
IStreamFlush(mongoc_stream_t *stream)
{
	return mongoc_stream_flush(BASE(stream));
}

static ssize_t
IStreamWritev(mongoc_stream_t *stream, mongoc_iovec_t *iov, size_t iovcnt,
			  int32_t timeout_msec)
{
	return mongoc_stream_writev(BASE(stream), iov, iovcnt, timeout_msec);
}

/*
 * Wait until the socket is readable, a slice at a time, looking for a
 * cancel in between; then let the socket stream read.  A negative
 * timeout_msec means no timeout.
 */
static ssize_t
IStreamReadv(mongoc_stream_t *stream, mongoc_iovec_t *iov, size_t iovcnt,
			 size_t min_bytes, int32_t timeout_msec)
{
	InterruptibleStream *s = (InterruptibleStream *) stream;
	int64_t		waited = 0;

	while (min_bytes > 0)
	{
		mongoc_socket_poll_t pfd;
		int32_t		slice = MONGO_INTERRUPT_POLL_MS;
		ssize_t		ready;

		if (CancelPending())
		{
			errno = EINTR;
			return -1;
		}
		if (timeout_msec >= 0 && waited >= timeout_msec)
			break;				/* the socket stream reports the timeout */
		if (timeout_msec >= 0 && timeout_msec - waited < slice)
			slice = (int32_t) (timeout_msec - waited);
		pfd.socket = s->socket;
		pfd.events = POLLIN;
		pfd.revents = 0;
		ready = mongoc_socket_poll(&pfd, 1, slice);
		if (ready < 0 && errno == EINTR)
			continue;			/* a signal, maybe the cancel: look again */
		if (ready != 0)
			break;				/* readable, closed or failed: read decides */
		waited += slice;
	}
	if (timeout_msec >= 0)
		timeout_msec = (int32_t) Max(timeout_msec - waited, 1);
	return mongoc_stream_readv(s->base, iov, iovcnt, min_bytes, timeout_msec);
}

static int
IStreamSetsockopt(mongoc_stream_t *stream, int level, int optname, void *optval,
				  mongoc_socklen_t optlen)
{
	return mongoc_stream_setsockopt(BASE(stream), level, optname, optval, optlen);
}

static mongoc_stream_t *
IStreamGetBase(mongoc_stream_t *stream)
{
	return BASE(stream);
}

static bool
IStreamCheckClosed(mongoc_stream_t *stream)
{
	return mongoc_stream_check_closed(BASE(stream));
}

static bool
IStreamTimedOut(mongoc_stream_t *stream)
{
	return mongoc_stream_timed_out(BASE(stream));
}

static bool
IStreamShouldRetry(mongoc_stream_t *stream)
{
	return mongoc_stream_should_retry(BASE(stream));
}

/* Connect to host within connectTimeoutMS; NULL and *error on failure. */
static mongoc_socket_t *
Connect(const mongoc_uri_t *uri, const mongoc_host_list_t *host, bson_error_t *error)
{
	int32_t		timeout_ms = mongoc_uri_get_option_as_int32(uri, MONGOC_URI_CONNECTTIMEOUTMS,
															MONGOC_DEFAULT_CONNECTTIMEOUTMS);
	int64_t		expire_at = bson_get_monotonic_time() + (int64_t) timeout_ms * 1000;
	mongoc_socket_t *sock = NULL;

	if (host->family == AF_UNIX)
	{
		struct sockaddr_un addr;

		if (strlen(host->host) >= sizeof(addr.sun_path))
		{
			bson_set_error(error, MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_NAME_RESOLUTION,
						   "Unix socket path is too long: %s", host->host);
			return NULL;
		}
		memset(&addr, 0, sizeof(addr));
		addr.sun_family = AF_UNIX;
		strcpy(addr.sun_path, host->host);
		sock = mongoc_socket_new(AF_UNIX, SOCK_STREAM, 0);
		if (sock && mongoc_socket_connect(sock, (struct sockaddr *) &addr, sizeof(addr),
										  expire_at) == -1)
		{
			mongoc_socket_destroy(sock);
			sock = NULL;
		}
	}
	else
	{
		struct addrinfo hints;
		struct addrinfo *res = NULL;
		char		port[16];

		memset(&hints, 0, sizeof(hints));
		hints.ai_family = host->family;
		hints.ai_socktype = SOCK_STREAM;
		snprintf(port, sizeof(port), "%hu", host->port);
		if (getaddrinfo(host->host, port, &hints, &res) != 0)
		{
			bson_set_error(error, MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_NAME_RESOLUTION,
						   "Failed to resolve '%s'", host->host);
			return NULL;
		}
		for (struct addrinfo *rp = res; rp && sock == NULL; rp = rp->ai_next)
		{
			sock = mongoc_socket_new(rp->ai_family, rp->ai_socktype, rp->ai_protocol);
			if (sock && mongoc_socket_connect(sock, rp->ai_addr,
											  (mongoc_socklen_t) rp->ai_addrlen,
											  expire_at) == -1)
			{
				mongoc_socket_destroy(sock);
				sock = NULL;
			}
		}
		freeaddrinfo(res);
		if (sock)
		{
			int			on = 1;

			mongoc_socket_setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
			mongoc_socket_setsockopt(sock, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		}
	}
	if (sock == NULL)
		bson_set_error(error, MONGOC_ERROR_STREAM, MONGOC_ERROR_STREAM_CONNECT,
					   "Failed to connect to target host: %s", host->host_and_port);
	return sock;
}

/*
 * The stream initiator (mongoc_stream_initiator_t): socket, then our
 * stream, then libmongoc's buffering, as libmongoc's own initiator does.
 */
mongoc_stream_t *
MongoInterruptibleStreamInitiator(const mongoc_uri_t *uri, const mongoc_host_list_t *host,
								  void *user_data, bson_error_t *error)
{
	mongoc_socket_t *sock = Connect(uri, host, error);
	InterruptibleStream *s;

	if (sock == NULL)
		return NULL;
	s = bson_malloc0(sizeof(InterruptibleStream));
	s->vtable.type = MONGO_STREAM_INTERRUPTIBLE;
	s->vtable.destroy = IStreamDestroy;
	s->vtable.failed = IStreamFailed;
	s->vtable.close = IStreamClose;
	s->vtable.flush = IStreamFlush;
	s->vtable.writev = IStreamWritev;
	s->vtable.readv = IStreamReadv;
	s->vtable.setsockopt = IStreamSetsockopt;
	s->vtable.get_base_stream = IStreamGetBase;
	s->vtable.check_closed = IStreamCheckClosed;
	s->vtable.timed_out = IStreamTimedOut;
	s->vtable.should_retry = IStreamShouldRetry;
	s->socket = sock;
	s->base = mongoc_stream_socket_new(sock);	/* owns sock from now on */
	return mongoc_stream_buffered_new((mongoc_stream_t *) s, 1024);
}
