/*
 * artifact.c
 *		Sectioned binary container for a model version's parameters.
 *
 * Layout: "RECSART1", uint32 byte-order mark, then sections of
 *   char name[16] | uint32 elem_size | int64 count | padding to 8 | data
 * Offsets are 8-byte aligned from the start of the data, so sections could
 * be used in place later (shared-memory model cache); today they are copied.
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "registry/artifact.h"

#define ARTIFACT_MAGIC "RECSART1"
#define ARTIFACT_BOM 0x01020304
#define SECTION_NAME_LEN 16

typedef struct SectionHeader
{
	char		name[SECTION_NAME_LEN];
	uint32		elem_size;
	uint32		reserved;
	int64		count;
} SectionHeader;

static void
PadTo8(StringInfo buf)
{
	static const char zeros[8] = {0};

	/* offsets count from the start of the data, after the varlena header */
	int			pos = buf->len - VARHDRSZ;

	if (pos % 8 != 0)
		appendBinaryStringInfo(buf, zeros, 8 - pos % 8);
}

void
RecsArtifactBegin(RecsArtifactWriter *w)
{
	uint32		bom = ARTIFACT_BOM;
	char		header[VARHDRSZ] = {0};

	initStringInfo(&w->buf);
	/* room for the varlena header, filled in by RecsArtifactFinish */
	appendBinaryStringInfo(&w->buf, header, VARHDRSZ);
	appendBinaryStringInfo(&w->buf, ARTIFACT_MAGIC, 8);
	appendBinaryStringInfo(&w->buf, (const char *) &bom, sizeof(bom));
	PadTo8(&w->buf);
}

void
RecsArtifactPut(RecsArtifactWriter *w, const char *section, const void *data,
				int64 count, Size elem_size)
{
	SectionHeader h;
	Size		bytes = mul_size((Size) count, elem_size);

	Assert(strlen(section) < SECTION_NAME_LEN);
	memset(&h, 0, sizeof(h));
	strlcpy(h.name, section, SECTION_NAME_LEN);
	h.elem_size = (uint32) elem_size;
	h.count = count;

	if ((Size) w->buf.len + sizeof(h) + bytes + 8 >= MaxAllocSize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("model is too large to store"),
				 errdetail("Its parameters exceed the 1 GB limit of a bytea value.")));

	appendBinaryStringInfo(&w->buf, (const char *) &h, sizeof(h));
	if (bytes > 0)
		appendBinaryStringInfo(&w->buf, data, (int) bytes);
	PadTo8(&w->buf);
}

bytea *
RecsArtifactFinish(RecsArtifactWriter *w)
{
	bytea	   *result = (bytea *) w->buf.data;

	SET_VARSIZE(result, w->buf.len);
	return result;
}

static void
CorruptArtifact(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("model artifact is corrupted"),
			 errdetail("%s", detail),
			 errhint("Retrain the model with recs_train().")));
}

void
RecsArtifactOpen(RecsArtifactReader *r, bytea *artifact)
{
	uint32		bom;

	r->data = VARDATA_ANY(artifact);
	r->len = VARSIZE_ANY_EXHDR(artifact);
	r->pos = 0;

	if (r->len < 16 || memcmp(r->data, ARTIFACT_MAGIC, 8) != 0)
		CorruptArtifact("The artifact does not start with the recs magic number.");
	memcpy(&bom, r->data + 8, sizeof(bom));
	if (bom != ARTIFACT_BOM)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("model artifact was written on a machine of different byte order"),
				 errhint("Retrain the model on this machine with recs_train().")));
	r->pos = 16;				/* magic, byte-order mark, padding */
}

/*
 * Next section, which must be called section and hold elements of
 * elem_size bytes.  Returns a palloc'd copy (aligned for any type).
 */
void *
RecsArtifactGet(RecsArtifactReader *r, const char *section, int64 *count,
				Size elem_size)
{
	SectionHeader h;
	Size		bytes;
	void	   *result;

	if (r->pos + sizeof(h) > r->len)
		CorruptArtifact(psprintf("Section \"%s\" is missing.", section));
	memcpy(&h, r->data + r->pos, sizeof(h));
	r->pos += sizeof(h);

	if (strncmp(h.name, section, SECTION_NAME_LEN) != 0)
		CorruptArtifact(psprintf("Expected section \"%s\", found \"%.*s\".",
								 section, SECTION_NAME_LEN, h.name));
	if (h.elem_size != elem_size || h.count < 0)
		CorruptArtifact(psprintf("Section \"%s\" has the wrong element size.", section));
	bytes = mul_size((Size) h.count, elem_size);
	if (bytes > r->len - r->pos)
		CorruptArtifact(psprintf("Section \"%s\" is truncated.", section));

	result = palloc_extended(Max(bytes, 1), MCXT_ALLOC_HUGE);
	memcpy(result, r->data + r->pos, bytes);
	r->pos += bytes;
	r->pos += (8 - r->pos % 8) % 8;

	if (count)
		*count = h.count;
	return result;
}

/*
 * RecsArtifactGet of a section that must hold exactly expected elements.
 */
void *
RecsArtifactGetExact(RecsArtifactReader *r, const char *section, int64 expected,
					 Size elem_size)
{
	int64		n;
	void	   *result = RecsArtifactGet(r, section, &n, elem_size);

	if (n != expected)
		CorruptArtifact(psprintf("Section \"%s\" holds %lld values where %lld were expected.",
								 section, (long long) n, (long long) expected));
	return result;
}
