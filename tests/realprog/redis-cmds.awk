# Prints the redis-cli commands that scripts/realprog.sh sends to
# redis-server after redis-benchmark and FLUSHALL ASYNC: strings grown by
# APPEND and SETRANGE, lists, hashes, sets and sorted sets large enough to
# leave their compact encodings, deletions, Lua, an RDB save and reload.
# Every reply is deterministic: no INFO, MEMORY, KEYS, SMEMBERS or HGETALL
# (hash-table order depends on a per-process random seed).
function val(i, n,    s) {
	s = sprintf("v%d-", i)
	while (length(s) < n)
		s = s sprintf("%x", (i * 2654435761 + length(s)) % 4294967296)
	return substr(s, 1, n)
}
BEGIN {
	n = 6000
	for (i = 1; i <= n; i++) {
		printf "SET s:%d %s\n", i, val(i, 1 + (i * 37) % 700)
		printf "APPEND a:%d %s\n", i % 40, val(i, 1 + i % 90)
		printf "RPUSH l:%d %s\n", i % 30, val(i, 5 + i % 60)
		printf "HSET h:%d f%d %s\n", i % 12, i, val(i, 3 + i % 120)
		printf "SADD set:%d m%d\n", i % 9, (i * 7) % 5000
		printf "ZADD z:%d %d.%d m%d\n", i % 5, (i * 13) % 997, i % 10, i
		printf "INCRBY c:%d %d\n", i % 7, i
		if (i % 5 == 0)
			printf "SETRANGE a:%d %d %s\n", i % 40, (i * 3) % 500, val(i, 20)
		if (i % 7 == 0) {
			printf "DEL s:%d\n", i - 3
			printf "LPOP l:%d\n", i % 30
			printf "HDEL h:%d f%d\n", i % 12, i - 24
			printf "SREM set:%d m%d\n", i % 9, (i * 11) % 5000
			printf "ZREM z:%d m%d\n", i % 5, i - 10
		}
		if (i % 1000 == 0)
			printf "DBSIZE\n"
	}
	for (k = 0; k < 40; k += 7)
		printf "STRLEN a:%d\nGETRANGE a:%d 100 160\n", k, k
	printf "GET s:1\nGET s:5999\nMGET s:10 s:11 s:12 s:13 nosuch\n"
	for (k = 0; k < 30; k += 11)
		printf "LLEN l:%d\nLRANGE l:%d 0 -1\n", k, k
	printf "LINDEX l:3 17\nLTRIM l:4 10 50\nLRANGE l:4 0 5\n"
	for (k = 0; k < 12; k += 5)
		printf "HLEN h:%d\nHMGET h:%d f%d f%d f%d\n", k, k, k, k + 12, k + 1200
	for (k = 0; k < 9; k += 4)
		printf "SCARD set:%d\nSORT set:%d ALPHA LIMIT 0 40\n", k, k
	printf "SINTERSTORE si set:1 set:2\nSCARD si\nSUNIONSTORE su set:3 set:4 set:5\nSCARD su\n"
	printf "SORT su ALPHA LIMIT 100 20\n"
	for (k = 0; k < 5; k += 2)
		printf "ZCARD z:%d\nZRANGE z:%d 0 30 WITHSCORES\nZRANGEBYSCORE z:%d 100 110\n", k, k, k
	printf "ZUNIONSTORE zu 3 z:0 z:1 z:2 WEIGHTS 1 2 3\nZCARD zu\nZREVRANGE zu 0 10 WITHSCORES\n"
	printf "MGET c:0 c:1 c:2 c:3 c:4 c:5 c:6\n"
	printf "EVAL \"local t = {} for i = 1, 20000 do t[i] = tostring(i * 7) .. 'x' .. i end local s = table.concat(t, ',') redis.call('SET', KEYS[1], s) return {#s, redis.sha1hex(s)}\" 1 lua:big\n"
	printf "STRLEN lua:big\n"
	printf "OBJECT ENCODING s:1\nOBJECT ENCODING l:3\nOBJECT ENCODING h:3\nOBJECT ENCODING set:3\nOBJECT ENCODING z:3\nOBJECT ENCODING c:3\n"
	printf "DBSIZE\nDEBUG DIGEST\nDEBUG DIGEST-VALUE a:7 l:3 h:3 set:3 z:3\n"
	printf "DEBUG RELOAD\nDBSIZE\nDEBUG DIGEST\n"
	printf "RENAME h:3 h:renamed\nCOPY l:5 l:copy\nLRANGE l:copy 0 3\nDEL h:renamed l:copy\n"
	printf "FLUSHALL ASYNC\nDBSIZE\n"
	for (i = 1; i <= 2000; i++)
		printf "SET again:%d %s\n", i, val(i, i % 3000)
	printf "DBSIZE\nDEBUG DIGEST\n"
}
