-- Casts between embedding and arrays of integer, real, double precision and
-- numeric.

SELECT ARRAY[1,2,3]::embedding;
SELECT ARRAY[1.5,2.25]::real[]::embedding;
SELECT ARRAY[0.1,-1e-3]::double precision[]::embedding;
SELECT ARRAY[0.1,12345.678]::numeric[]::embedding;
SELECT ARRAY[2147483647]::embedding;	-- float4 rounds large integers
SELECT ARRAY[1,2,3]::embedding(3);
SELECT ARRAY[1,2,3]::embedding(2);

-- assignment casts let arrays go straight into embedding columns
CREATE TABLE cast_t (e embedding(2));
INSERT INTO cast_t VALUES (ARRAY[1,2]), (ARRAY[1.5,2.5]::real[]), (ARRAY[3,4]::float8[]), (ARRAY[5.5,6]::numeric[]);
INSERT INTO cast_t VALUES (ARRAY[1,2,3]);
SELECT * FROM cast_t;

-- embedding to arrays
SELECT '[1,2.5,-3]'::embedding::real[];
SELECT '[0.1,2.5]'::embedding::double precision[];
SELECT '[0.1,2.5,-3e-5,3.4028235e38]'::embedding::numeric[];
SELECT '[1.4,1.5,2.5,-1.5,-2.6]'::embedding::integer[];
SELECT '[2147483520]'::embedding::integer[];
SELECT '[3e9]'::embedding::integer[];
SELECT '[-3e9]'::embedding::integer[];
-- round trips are exact for real[] and double precision[]
SELECT '[0.1,1e-40,3.4028235e38]'::embedding::real[]::embedding = '[0.1,1e-40,3.4028235e38]' AS real_round_trip;
SELECT '[0.1,1e-40,3.4028235e38]'::embedding::float8[]::embedding = '[0.1,1e-40,3.4028235e38]' AS float8_round_trip;
SELECT '[0.1,-7.25]'::embedding::numeric[]::embedding = '[0.1,-7.25]' AS numeric_round_trip;

-- empty, multidimensional and oversized arrays
SELECT '{}'::int[]::embedding;
SELECT '{}'::real[]::embedding;
SELECT ARRAY[[1,2],[3,4]]::embedding;
SELECT array_fill(1, ARRAY[16000])::embedding = array_fill(1, ARRAY[16000])::embedding AS max_dims_ok;
SELECT array_fill(1, ARRAY[16001])::embedding;
SELECT array_fill(1.0::float8, ARRAY[16001])::embedding;

-- NULL elements
SELECT ARRAY[1,NULL,3]::embedding;
SELECT ARRAY[NULL]::real[]::embedding;
SELECT ARRAY[1.5,NULL]::numeric[]::embedding;

-- non-finite and overflowing elements
SELECT ARRAY['NaN']::real[]::embedding;
SELECT ARRAY['Infinity']::real[]::embedding;
SELECT ARRAY[1,'NaN']::float8[]::embedding;
SELECT ARRAY['-Infinity']::float8[]::embedding;
SELECT ARRAY[1e39]::float8[]::embedding;
SELECT ARRAY[-1e300]::float8[]::embedding;
SELECT ARRAY['NaN']::numeric[]::embedding;
SELECT ARRAY['Infinity']::numeric[]::embedding;
SELECT ARRAY[1e39]::numeric[]::embedding;
SELECT ARRAY[1e400]::numeric[]::embedding;
-- tiny values underflow towards zero as in float8 -> real
SELECT ARRAY[1e-50]::float8[]::embedding;

-- element types without a cast
SELECT ARRAY['1','2']::text[]::embedding;
SELECT ARRAY[1,2]::bigint[]::embedding;

DROP TABLE cast_t;
