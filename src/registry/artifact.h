/*
 * artifact.h
 *		Reading and writing a model version's learned parameters.
 *
 * A version's parameters are one bytea in recs.model_versions.artifact:
 * a header (magic, format version, byte order), then named sections, each
 * an array of fixed-size elements.  Arrays are stored in native byte order
 * so loading is a memcpy; the header's byte-order mark turns a dump
 * restored on a machine of the other endianness into a clear error rather
 * than garbage.  Sections are read back in the order they were written,
 * by name, so a format mistake fails loudly.
 */
#ifndef RECS_ARTIFACT_H
#define RECS_ARTIFACT_H

#include "postgres.h"

#include "lib/stringinfo.h"

typedef struct RecsArtifactWriter
{
	StringInfoData buf;
} RecsArtifactWriter;

typedef struct RecsArtifactReader
{
	const char *data;
	Size		len;
	Size		pos;
} RecsArtifactReader;

extern void RecsArtifactBegin(RecsArtifactWriter *w);
extern void RecsArtifactPut(RecsArtifactWriter *w, const char *section,
							const void *data, int64 count, Size elem_size);
extern bytea *RecsArtifactFinish(RecsArtifactWriter *w);

extern void RecsArtifactOpen(RecsArtifactReader *r, bytea *artifact);
extern void *RecsArtifactGet(RecsArtifactReader *r, const char *section,
							 int64 *count, Size elem_size);
extern void *RecsArtifactGetExact(RecsArtifactReader *r, const char *section,
								  int64 expected, Size elem_size);

#define RecsArtifactPutScalar(w, section, value) \
	RecsArtifactPut((w), (section), &(value), 1, sizeof(value))

#endif							/* RECS_ARTIFACT_H */
