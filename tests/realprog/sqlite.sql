-- Allocation stress for sqlite3: inserts, indexes, joins, aggregates.
PRAGMA cache_size = 200;
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, grp INTEGER, val REAL, data BLOB);
WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 60000)
INSERT INTO t(name, grp, val, data)
SELECT printf('name-%06d-%s', i, substr('abcdefghijklmnopqrstuvwxyz', 1 + i % 26)),
       i % 97, (i * 7919) % 10007 / 3.0, zeroblob(i % 300)
FROM c;
CREATE INDEX t_grp ON t(grp, val);
CREATE INDEX t_name ON t(name);
CREATE TABLE g AS SELECT grp, count(*) AS n, sum(val) AS s, max(length(data)) AS m
FROM t GROUP BY grp;
UPDATE t SET name = upper(name) || replace(name, 'name', 'N') WHERE id % 5 = 0;
DELETE FROM t WHERE id % 7 = 0;
SELECT count(*), sum(length(name)), round(sum(val), 3), sum(length(data)) FROM t;
SELECT grp, n, round(s, 3), m FROM g ORDER BY s DESC LIMIT 10;
SELECT t.grp, count(*), round(avg(t.val), 3) FROM t JOIN g ON g.grp = t.grp
WHERE g.n > 600 GROUP BY t.grp ORDER BY t.grp LIMIT 20;
SELECT name FROM t WHERE name LIKE 'NAME-0001%' ORDER BY name LIMIT 5;
SELECT length(group_concat(name, ',')) FROM (SELECT name FROM t ORDER BY name DESC LIMIT 20000);
VACUUM;
SELECT count(*) FROM t WHERE grp BETWEEN 10 AND 20 AND val > 1000;
