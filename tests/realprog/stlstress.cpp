// Allocation stress for C++ and the STL, compiled and run by
// scripts/realprog.sh: map, unordered_map, vector, string, list, deque,
// shared_ptr, sort; four threads build containers and hand objects to
// each other through mutex-protected queues, so memory allocated by one
// thread is freed by another.  Prints deterministic digests only (no
// addresses, no timings).
#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

const int nthreads = 4;
const int items_per_thread = 20000;

struct Digest {
	uint64_t h = 1469598103934665603ull;	// FNV-1a
	void add(const void *p, size_t n)
	{
		const unsigned char *c = static_cast<const unsigned char *>(p);
		for (size_t i = 0; i < n; i++) {
			h ^= c[i];
			h *= 1099511628211ull;
		}
	}
	void add(const std::string &s) { add(s.data(), s.size()); add("\0", 1); }
	void add(uint64_t v) { add(&v, sizeof(v)); }
};

uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

std::string word(uint64_t seed)
{
	std::string s;
	size_t len = 1 + mix(seed) % 40;
	for (size_t i = 0; i < len; i++)
		s += static_cast<char>('a' + mix(seed * 131 + i) % 26);
	return s;
}

// An object passed between threads: a string, a vector and a map, all
// allocated by the producer.
struct Item {
	int from;
	int seq;
	std::string name;
	std::vector<uint64_t> nums;
	std::map<std::string, int> tags;
};

struct Queue {
	std::mutex m;
	std::condition_variable cv;
	std::deque<std::shared_ptr<Item>> q;

	void push(std::shared_ptr<Item> it)
	{
		{
			std::lock_guard<std::mutex> g(m);
			q.push_back(std::move(it));
		}
		cv.notify_one();
	}
	std::shared_ptr<Item> pop(bool wait)
	{
		std::unique_lock<std::mutex> g(m);
		if (wait)
			cv.wait(g, [this] { return !q.empty(); });
		if (q.empty())
			return nullptr;
		std::shared_ptr<Item> it = std::move(q.front());
		q.pop_front();
		return it;
	}
};

Queue queues[nthreads];
std::string results[nthreads];

std::shared_ptr<Item> make_item(int from, int seq)
{
	auto it = std::make_shared<Item>();
	it->from = from;
	it->seq = seq;
	uint64_t s = static_cast<uint64_t>(from) * 1000003 + seq;
	it->name = word(s) + "-" + std::to_string(seq) + "-" + word(s + 7);
	for (uint64_t i = 0; i < mix(s) % 64; i++)
		it->nums.push_back(mix(s + i));
	for (uint64_t i = 0; i < mix(s + 1) % 8; i++)
		it->tags[word(s * 3 + i)] = static_cast<int>(i);
	return it;
}

// Per-thread container work, then the exchange: thread t sends its items
// to thread (t + 1) % nthreads and receives from thread (t - 1).  Items
// from one producer arrive in order, so the receive digest is
// deterministic.
void worker(int t)
{
	Digest d;
	std::map<std::string, std::vector<int>> m;
	std::unordered_map<uint64_t, std::string> um;
	std::list<std::string> l;
	for (int i = 0; i < 30000; i++) {
		uint64_t s = mix(static_cast<uint64_t>(t) << 32 | i);
		m[word(s % 5000)].push_back(i);
		um[s % 20000] += word(s);
		l.push_back(word(s + 1));
		if (l.size() > 500)
			l.pop_front();
		if (i % 7 == 0)
			um.erase(mix(s) % 20000);
	}
	for (auto &kv : m) {
		d.add(kv.first);
		d.add(kv.second.size());
	}
	std::vector<std::pair<uint64_t, std::string>> sorted(um.begin(), um.end());
	std::sort(sorted.begin(), sorted.end());
	for (auto &kv : sorted) {
		d.add(kv.first);
		d.add(kv.second);
	}
	for (auto &s : l)
		d.add(s);

	Queue &out = queues[(t + 1) % nthreads];
	Queue &in = queues[t];
	Digest rd;
	int got = 0;
	std::vector<std::shared_ptr<Item>> kept;
	auto take = [&](std::shared_ptr<Item> it) {
		rd.add(it->from);
		rd.add(it->seq);
		rd.add(it->name);
		for (uint64_t v : it->nums)
			rd.add(v);
		for (auto &kv : it->tags) {
			rd.add(kv.first);
			rd.add(kv.second);
		}
		if (it->seq % 10 == 0)
			kept.push_back(std::move(it));	// freed later, here
		got++;
	};
	for (int i = 0; i < items_per_thread; i++) {
		out.push(make_item(t, i));
		while (auto it = in.pop(false))
			take(std::move(it));
	}
	while (got < items_per_thread)
		take(in.pop(true));
	std::sort(kept.begin(), kept.end(),
		  [](const std::shared_ptr<Item> &a, const std::shared_ptr<Item> &b) {
			  return a->name < b->name;
		  });
	for (auto &it : kept)
		rd.add(it->name);

	char buf[160];
	snprintf(buf, sizeof(buf),
		 "thread %d: map %zu um %zu list %zu digest %016llx; got %d kept %zu digest %016llx",
		 t, m.size(), um.size(), l.size(),
		 static_cast<unsigned long long>(d.h), got, kept.size(),
		 static_cast<unsigned long long>(rd.h));
	results[t] = buf;
}

void strings()
{
	std::string s;
	for (int i = 0; i < 200000; i++)
		s += std::to_string(i * 2654435761u) + ",";
	std::vector<std::string> parts;
	size_t p = 0, q;
	while ((q = s.find(',', p)) != std::string::npos) {
		parts.push_back(s.substr(p, q - p));
		p = q + 1;
	}
	std::sort(parts.begin(), parts.end());
	parts.erase(std::unique(parts.begin(), parts.end()), parts.end());
	std::string joined;
	for (size_t i = 0; i < parts.size(); i += 50)
		joined = joined + parts[i].substr(0, 3) + "|";
	Digest d;
	d.add(joined);
	for (auto &x : parts)
		d.add(x);
	printf("strings: %zu bytes, %zu parts, joined %zu, digest %016llx\n",
	       s.size(), parts.size(), joined.size(),
	       static_cast<unsigned long long>(d.h));
}

void containers()
{
	std::deque<std::vector<int>> dq;
	std::set<std::string> set;
	std::vector<std::shared_ptr<std::string>> shared;
	Digest d;
	for (int i = 0; i < 100000; i++) {
		dq.emplace_back(i % 50, i);
		if (dq.size() > 1000) {
			d.add(dq.front().size());
			dq.pop_front();
		}
		set.insert(word(i % 30000));
		auto sp = std::make_shared<std::string>(word(i));
		shared.push_back(sp);
		if (i % 3 == 0)
			shared[mix(i) % shared.size()] = sp;
	}
	std::vector<uint64_t> v;
	for (int i = 0; i < 500000; i++)
		v.push_back(mix(i) % 1000000);
	std::sort(v.begin(), v.end());
	std::stable_sort(shared.begin(), shared.end(),
			 [](const std::shared_ptr<std::string> &a,
			    const std::shared_ptr<std::string> &b) { return a->size() < b->size(); });
	for (auto &x : set)
		d.add(x);
	for (size_t i = 0; i < v.size(); i += 101)
		d.add(v[i]);
	for (size_t i = 0; i < shared.size(); i += 13)
		d.add(*shared[i]);
	printf("containers: deque %zu set %zu shared %zu digest %016llx\n",
	       dq.size(), set.size(), shared.size(),
	       static_cast<unsigned long long>(d.h));
}

}	// namespace

int main()
{
	std::vector<std::thread> threads;
	for (int t = 0; t < nthreads; t++)
		threads.emplace_back(worker, t);
	for (auto &th : threads)
		th.join();
	for (auto &r : results)
		printf("%s\n", r.c_str());
	strings();
	containers();
	return 0;
}
