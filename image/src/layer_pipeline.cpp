#include "layer_pipeline.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <thread>

#include "bock/common/fs.hpp"
#include "bock/common/log.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/test_hooks.hpp"
#include "bock/image/extract.hpp"
#include "gzip_inflate.hpp"

namespace bock::image::detail {

unsigned default_pull_parallel() {
    if (const char* v = ::getenv("BOCK_PULL_PARALLEL"); v && *v) {
        char* end = nullptr;
        unsigned long n = std::strtoul(v, &end, 10);
        if (end && !*end && n >= 1 && n <= 64) return static_cast<unsigned>(n);
        log::warn("BOCK_PULL_PARALLEL=`{}` is not a number from 1 to 64; using 4", v);
    }
    return 4;
}

namespace {

// What the jobs share: the first error wins and cancels the others.
struct Shared {
    Shared(const StorePaths& p, const PipelineOptions& o) : paths(p), opts(o) {}
    const StorePaths& paths;
    const PipelineOptions& opts;
    std::atomic<bool> cancelled{false};
    std::mutex mu;
    std::optional<Error> first_error;

    void fail(Error e) {
        std::lock_guard g(mu);
        if (!first_error) first_error = std::move(e);
        cancelled = true;
    }
    void event(BlobEvent::Stage stage, const Descriptor& d, int64_t bytes) const {
        if (!opts.on_blob) return;
        BlobEvent e;
        e.stage = stage;
        e.digest = d.digest.str();
        e.size = d.size;
        e.bytes = bytes;
        opts.on_blob(e);
    }
};

// Extracts the stream read from `fd` into a fresh tmp/ directory; returns
// the directory and the stream's diff_id.
struct Extracted {
    std::string dir;
    Result<ExtractStats> stats = make_error("not run");
};

Result<std::string> new_extract_dir(const StorePaths& p) {
    std::string tmp = BOCK_TRY(fs::make_temp_dir(p.tmp(), "extract-"));
    ::chmod(tmp.c_str(), 0755);  // the layer root's mode unless the tar has "./"
    return tmp;
}

void extract_into(int fd, Extracted& out, const StoreOptions& so) {
    ExtractOptions eo;
    eo.rootless = so.rootless;
    eo.single_id = so.single_id;
    out.stats = extract_layer(fd, out.dir, eo);
}

// Renames a verified layer directory into layers/ (kept if another pull put
// the same layer there first: same content).
Result<void> publish_layer(const StorePaths& p, const LayerJob& job, Extracted& x) {
    if (!x.stats) return std::move(x.stats).error().wrap(fmt::format("layer {}", job.diff_id.str()));
    if (x.stats->diff_id != job.diff_id)
        return make_error("layer {}: diff_id mismatch (uncompressed content of blob {} is {})", job.diff_id.str(),
                          job.blob.digest.str(), x.stats->diff_id.str());
    test_hooks::kill_point("pull-layer-before-rename");
    BOCK_TRY(fs::mkdir_p(p.layers(), 0700));
    std::string dest = p.layer(job.diff_id);
    if (::rename(x.dir.c_str(), dest.c_str()) < 0) {
        if ((errno == ENOTEMPTY || errno == EEXIST) && fs::is_dir(dest)) {
            (void)fs::remove_all(x.dir);
            return ok();
        }
        return errno_error("rename `{}` to `{}`", x.dir, dest);
    }
    return ok();
}

// A layer whose blob is stored but not extracted (a pull killed between
// the two renames, or an image loaded before): extract from blobs/.
Result<void> extract_stored(Shared& s, const LayerJob& job) {
    Fd fd = BOCK_TRY(sys::open(s.paths.blob(job.blob.digest), O_RDONLY));
    Extracted x{BOCK_TRY(new_extract_dir(s.paths))};
    extract_into(fd.get(), x, s.opts.store);
    auto r = publish_layer(s.paths, job, x);
    if (!r) (void)fs::remove_all(x.dir);
    return r;
}

Result<void> write_pipe(int fd, const char* data, size_t len) {
    if (int r = sys::raw::write_all(fd, data, len); r < 0) return Error(-r, "feed the layer extraction");
    return ok();
}

// Joins the extraction thread on every way out of download(), a throw
// included (a std::thread still joinable when destroyed is std::terminate),
// after closing the pipe's write end so that the thread sees its stream end.
struct ExtractorJoiner {
    std::thread& thread;
    Fd& write_end;
    ~ExtractorJoiner() {
        write_end.reset();
        if (thread.joinable()) thread.join();
    }
};

// Downloads one blob into blobs/ and, when the layer is needed too, tees the
// bytes into a pipe read by an extraction thread.
Result<void> download(Shared& s, const LayerJob& job, const BlobFetcher& fetch) {
    const StorePaths& p = s.paths;
    auto w = BOCK_TRY(BlobWriter::create(p, job.blob, fmt::format("blob {}", job.blob.digest.str()), "pull"));
    Fd rd, wr;
    Extracted x;
    std::thread extractor;
    ExtractorJoiner joiner{extractor, wr};
    if (job.need_layer) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) < 0) return errno_error("create a pipe for layer {}", job.diff_id.str());
        rd = Fd(fds[0]);
        wr = Fd(fds[1]);
        (void)::fcntl(wr.get(), F_SETPIPE_SZ, 1 << 20);  // best effort: fewer wake-ups
        x.dir = BOCK_TRY(new_extract_dir(p));
        extractor = std::thread([&] {
            extract_into(rd.get(), x, s.opts.store);
            rd.reset();  // a writer still feeding gets EPIPE
        });
    }
    s.event(BlobEvent::Stage::start, job.blob, 0);
    int64_t got = 0, reported = 0, fed = 0;
    bool half = false, pipe_broken = false;
    // libcurl hands over 16 KiB pieces: they are gathered into 256 KiB
    // writes (a sixteenth of the syscalls into the blob file and the pipe).
    std::string buf;
    buf.reserve(256 << 10);
    // A gzip blob is inflated here with igzip (gzip_inflate.hpp) and the
    // tar stream piped to extraction; anything else (zstd, xz, plain tar) is
    // piped as it is and decompressed by libarchive there.
    auto to_pipe = [&](const char* data, size_t len) -> Result<void> {
        auto r = write_pipe(wr.get(), data, len);
        if (!r) pipe_broken = r.error().code() == EPIPE;
        return r;
    };
    std::optional<GzipInflater> gunzip;
    bool sniffed = false;
    auto flush = [&]() -> Result<void> {
        if (buf.empty()) return ok();
        BOCK_TRY(w.write(buf.data(), buf.size()));
        if (wr.valid()) {
            if (!sniffed) {
                sniffed = true;
                if (GzipInflater::is_gzip(buf.data(), buf.size())) gunzip.emplace(ExtractLimits::from_env(), to_pipe);
            }
            if (gunzip) BOCK_TRY_CTX(gunzip->feed(buf.data(), buf.size()), fmt::format("blob {}", job.blob.digest.str()));
            else BOCK_TRY(to_pipe(buf.data(), buf.size()));
        }
        fed += static_cast<int64_t>(buf.size());
        buf.clear();
        if (!half && fed * 2 >= job.blob.size) {
            half = true;
            if (job.need_layer) test_hooks::kill_point("pull-layer-partial");
        }
        return ok();
    };
    BlobSink sink = [&](const char* data, size_t len) -> Result<void> {
        if (s.cancelled) return make_error("cancelled");
        if (got + static_cast<int64_t>(len) > job.blob.size)  // refused before anything is written
            return make_error("blob {}: larger than its descriptor says ({} bytes)", job.blob.digest.str(),
                              job.blob.size);
        buf.append(data, len);
        got += static_cast<int64_t>(len);
        if (buf.size() >= (256 << 10)) BOCK_TRY(flush());
        if (got - reported >= (256 << 10)) {
            reported = got;
            s.event(BlobEvent::Stage::progress, job.blob, got);
        }
        return ok();
    };
    auto fetched = fetch(job.blob, sink);
    if (fetched) fetched = flush();
    if (fetched && gunzip) fetched = gunzip->finish().context(fmt::format("blob {}", job.blob.digest.str()));
    wr.reset();  // end of stream for the extractor
    Result<Descriptor> stored = fetched ? w.commit() : Result<Descriptor>(make_error("not stored"));
    if (extractor.joinable()) extractor.join();
    auto cleanup = [&] {
        if (!x.dir.empty()) (void)fs::remove_all(x.dir);
    };
    if (!fetched) {
        cleanup();
        // The extraction failed first (the pipe closed under the download):
        // its error is the cause.
        if (pipe_broken && !x.stats) return std::move(x.stats).error().wrap(fmt::format("layer {}", job.diff_id.str()));
        return std::move(fetched).error();
    }
    if (!stored) {
        cleanup();
        return std::move(stored).error();
    }
    if (job.need_layer) {
        auto r = publish_layer(p, job, x);
        if (!r) {
            cleanup();
            return r;
        }
    }
    s.event(BlobEvent::Stage::done, job.blob, got);
    return ok();
}

Result<void> run_job(Shared& s, const LayerJob& job, std::optional<BlobFetcher>& fetcher,
                     const BlobFetcherFactory& factory) {
    if (!job.need_blob && !job.need_layer) {
        s.event(BlobEvent::Stage::exists, job.blob, job.blob.size);
        return ok();
    }
    if (!job.need_blob) {
        BOCK_TRY(extract_stored(s, job));
        s.event(BlobEvent::Stage::done, job.blob, job.blob.size);
        return ok();
    }
    if (!fetcher) fetcher = factory();
    return download(s, job, *fetcher);
}

}  // namespace

Result<void> run_layer_pipeline(const StorePaths& p, const std::vector<LayerJob>& jobs,
                                const BlobFetcherFactory& factory, const PipelineOptions& opts) {
    Shared s(p, opts);
    std::atomic<size_t> next{0};
    auto worker = [&] {
        // A broken pipe is an error return here (the extraction stopped),
        // never a process-killing signal: SIGPIPE stays pending on this
        // thread, which ends with it.
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        std::optional<BlobFetcher> fetcher;
        for (;;) {
            size_t i = next++;
            if (i >= jobs.size() || s.cancelled) return;
            auto r = run_job(s, jobs[i], fetcher, factory);
            if (!r) s.fail(std::move(r).error());
        }
    };
    unsigned n = std::max(1u, std::min<unsigned>(opts.parallel, static_cast<unsigned>(jobs.size())));
    {
        std::vector<std::jthread> threads;  // joined however this block is left
        threads.reserve(n);
        for (unsigned i = 0; i < n; i++) threads.emplace_back(worker);
    }
    if (s.first_error) return std::move(*s.first_error);
    return ok();
}

}  // namespace bock::image::detail
