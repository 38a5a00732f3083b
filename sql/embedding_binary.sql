-- Binary send/receive.  embedding_recv cannot be called from SQL, so the
-- test writes binary COPY files with chosen bytes (through a large object,
-- into the data directory) and loads them with COPY ... (FORMAT binary).

-- send: int16 dim, int16 reserved, then big-endian float4s
SELECT embedding_send('[1,2,3]');
SELECT embedding_send('[-0.5]');

-- a binary COPY file holding one row with one field of the given bytes
CREATE FUNCTION copy_file_with_field(field bytea) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lo oid;
BEGIN
	lo := lo_from_bytea(0,
		'\x5047434f50590aff0d0a00'::bytea		-- signature
		|| '\x0000000000000000'::bytea			-- flags, header extension
		|| '\x0001'::bytea						-- one field
		|| int4send(length(field)) || field
		|| '\xffff'::bytea);					-- trailer
	PERFORM lo_export(lo, 'recs_embedding_binary.copy');
	PERFORM lo_unlink(lo);
END
$$;

CREATE TABLE bin (e embedding);
CREATE TABLE bin2 (e embedding(2));

-- a well-formed value
SELECT copy_file_with_field('\x000300003f8000004000000040400000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT * FROM bin;

-- what send produces, receive reads back exactly
TRUNCATE bin;
SELECT copy_file_with_field(embedding_send('[0.1,-2.5e-7,3.4028235e38]'));
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT e, e = '[0.1,-2.5e-7,3.4028235e38]' AS same FROM bin;

-- zero, negative and too many dimensions
SELECT copy_file_with_field('\x00000000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT copy_file_with_field('\xffff00003f800000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT copy_file_with_field('\x3e810000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);

-- reserved field not zero
SELECT copy_file_with_field('\x000100013f800000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);

-- header announces more elements than the message holds
SELECT copy_file_with_field('\x000300003f80000040000000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT copy_file_with_field('\x7d0000003f800000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);

-- truncated inside the header
SELECT copy_file_with_field('\x0001');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT copy_file_with_field('');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);

-- trailing bytes after the last element
SELECT copy_file_with_field('\x000100003f80000000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);

-- NaN and infinity bit patterns
SELECT copy_file_with_field('\x000200003f8000007fc00000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT copy_file_with_field('\x00010000ff800000');
COPY bin FROM 'recs_embedding_binary.copy' (FORMAT binary);

-- the column's embedding(2) is enforced on binary input
SELECT copy_file_with_field('\x000300003f8000004000000040400000');
COPY bin2 FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT copy_file_with_field('\x000200003f80000040000000');
COPY bin2 FROM 'recs_embedding_binary.copy' (FORMAT binary);
SELECT * FROM bin2;

-- nothing half-loaded survived the failures
SELECT count(*) FROM bin;

DROP TABLE bin, bin2;
DROP FUNCTION copy_file_with_field(bytea);
