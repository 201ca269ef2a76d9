// Store content: the writer session, the index file, blobs and extracted
// layers. Every file is written under tmp/ and renamed into place.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <ftw.h>

#include "archive_util.hpp"
#include "bock/common/fs.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/test_hooks.hpp"
#include "bock/image/extract.hpp"
#include "store_internal.hpp"

namespace bock::image::detail {

using nlohmann::json;

Result<WriteSession> WriteSession::begin(const StorePaths& p) {
    WriteSession s;
    s.lock_ = BOCK_TRY(FileLock::acquire(p.lock(), FileLock::Mode::exclusive, "the image store " + p.root));
    // Whatever is in tmp/ belongs to a writer that died: we hold the lock.
    BOCK_TRY(fs::remove_all(p.tmp()).context("clear store tmp"));
    BOCK_TRY(fs::mkdir_p(p.tmp(), 0700));
    return s;
}

// ---- index ----------------------------------------------------------------

Result<std::vector<ImageRecord>> read_index(const StorePaths& p) {
    std::vector<ImageRecord> out;
    if (!fs::exists(p.index())) return out;
    auto text = BOCK_TRY(fs::read_file(p.index()));
    auto bad = [&](std::string_view why) { return make_error("read image index `{}`: {}", p.index(), why); };
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        return bad(fmt::format("invalid json: {}", e.what()));
    }
    try {
        for (const auto& i : j.at("images")) {
            ImageRecord r;
            r.name = i.at("name").get<std::string>();
            r.manifest = BOCK_TRY_CTX(Digest::parse(i.at("manifest").get<std::string>()), "read image index");
            r.config = BOCK_TRY_CTX(Digest::parse(i.at("config").get<std::string>()), "read image index");
            for (const auto& d : i.at("diff_ids"))
                r.diff_ids.push_back(BOCK_TRY_CTX(Digest::parse(d.get<std::string>()), "read image index"));
            r.created = i.value("created", int64_t{0});
            r.size = i.value("size", uint64_t{0});
            out.push_back(std::move(r));
        }
    } catch (const json::exception& e) {
        return bad(e.what());
    }
    return out;
}

Result<void> write_index(const StorePaths& p, const std::vector<ImageRecord>& records) {
    json images = json::array();
    for (const auto& r : records) {
        json ids = json::array();
        for (const auto& d : r.diff_ids) ids.push_back(d.str());
        images.push_back({{"name", r.name},
                          {"manifest", r.manifest.str()},
                          {"config", r.config.str()},
                          {"diff_ids", ids},
                          {"created", r.created},
                          {"size", r.size}});
    }
    json j = {{"images", images}};
    return fs::write_file_atomic(p.index(), j.dump(1, ' ', false, json::error_handler_t::replace) + "\n", 0644)
        .context("write image index");
}

Result<void> add_to_index(const StorePaths& p, const std::vector<ImageRecord>& added, const std::string& hook) {
    auto records = BOCK_TRY(read_index(p));
    auto named = [&](const Digest& m, const ImageRecord* except) {
        for (const auto& r : records)
            if (&r != except && !r.name.empty() && r.manifest == m) return true;
        return false;
    };
    for (const auto& a : added) {
        if (a.name.empty()) {  // a dangling image: once, and only if it has no name
            bool known = false;
            for (const auto& r : records) known |= r.manifest == a.manifest;
            if (!known) records.push_back(a);
            continue;
        }
        // A name moved to another image leaves that image dangling (<none>)
        // when it was its last name, as podman does.
        for (auto& r : records)
            if (r.name == a.name && r.manifest != a.manifest && !named(r.manifest, &r)) r.name.clear();
        std::erase_if(records, [&](const ImageRecord& r) {
            return r.name == a.name || (r.name.empty() && r.manifest == a.manifest);
        });
        std::vector<Digest> seen;  // one dangling record per image
        std::erase_if(records, [&](const ImageRecord& r) {
            if (!r.name.empty()) return false;
            if (std::find(seen.begin(), seen.end(), r.manifest) != seen.end()) return true;
            seen.push_back(r.manifest);
            return false;
        });
        records.push_back(a);
    }
    test_hooks::kill_point((hook + "-before-index").c_str());
    return write_index(p, records);
}

// ---- blobs ----------------------------------------------------------------

namespace {

Result<void> write_all(int fd, const void* buf, size_t len, const std::string& what) {
    int r = sys::raw::write_all(fd, buf, len);
    if (r < 0) return Error(-r, fmt::format("write `{}`", what));
    return ok();
}

// Moves a finished tmp file into blobs/ (an existing blob is kept: same content).
Result<void> commit_blob(const StorePaths& p, const std::string& tmp, const Digest& d,
                         const std::string& hook = "load") {
    test_hooks::kill_point((hook + "-blob-before-rename").c_str());
    if (::rename(tmp.c_str(), p.blob(d).c_str()) < 0) return errno_error("rename `{}` into the store", tmp);
    return ok();
}

Result<std::pair<Fd, std::string>> tmp_file(const StorePaths& p) {
    std::string path = p.tmp() + "/blob-XXXXXX";
    int fd = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd < 0) return errno_error("create temporary file in `{}`", p.tmp());
    return std::pair<Fd, std::string>{Fd(fd), path};
}

}  // namespace

Result<BlobWriter> BlobWriter::create(const StorePaths& p, std::optional<Descriptor> expected, std::string what,
                                      std::string hook) {
    auto [out, tmp] = BOCK_TRY(tmp_file(p));
    BlobWriter w;
    w.paths_ = p;
    w.out_ = std::move(out);
    w.tmp_ = std::move(tmp);
    w.expected_ = std::move(expected);
    w.what_ = std::move(what);
    w.hook_ = std::move(hook);
    return w;
}

BlobWriter::~BlobWriter() {
    if (out_.valid()) ::unlink(tmp_.c_str());
}

Result<void> BlobWriter::write(const void* data, size_t len) {
    if (expected_ && size_ + static_cast<int64_t>(len) > expected_->size)
        return make_error("{}: larger than its descriptor says ({} bytes)", what_, expected_->size);
    hash_.update(data, len);
    BOCK_TRY(write_all(out_.get(), data, len, tmp_));
    size_ += static_cast<int64_t>(len);
    if (!announced_ && len > 0) {
        test_hooks::kill_point((hook_ + "-blob-partial").c_str());
        announced_ = true;
    }
    return ok();
}

Result<Descriptor> BlobWriter::commit() {
    Digest d = hash_.finish();
    if (expected_) {
        if (d != expected_->digest) return make_error("{}: digest mismatch (got {})", what_, d.str());
        if (size_ != expected_->size)
            return make_error("{}: size mismatch (descriptor says {}, got {})", what_, expected_->size, size_);
    }
    if (sync_ && ::fsync(out_.get()) < 0) return errno_error("fsync `{}`", tmp_);
    out_.reset();
    if (fs::exists(paths_.blob(d))) {
        ::unlink(tmp_.c_str());
    } else {
        BOCK_TRY(commit_blob(paths_, tmp_, d, hook_));
    }
    Descriptor desc = expected_ ? *expected_ : Descriptor{};
    desc.digest = d;
    desc.size = size_;
    return desc;
}

Result<Descriptor> put_blob_fd(const StorePaths& p, int fd, const std::optional<Descriptor>& expected,
                               const std::string& what) {
    if (expected && fs::exists(p.blob(expected->digest))) return *expected;
    auto w = BOCK_TRY(BlobWriter::create(p, expected, what));
    BOCK_TRY(for_each_chunk(fd, what, [&](const char* data, size_t len) { return w.write(data, len); }));
    return w.commit();
}

Result<void> for_each_chunk(int fd, const std::string& what,
                            const std::function<Result<void>(const char* data, size_t len)>& fn) {
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read {}", what);
        if (n == 0) return ok();
        BOCK_TRY(fn(buf, static_cast<size_t>(n)));
    }
}

Result<Descriptor> put_blob_data(const StorePaths& p, std::string_view data, const std::string& what) {
    Digest d = sha256_of(data);
    Descriptor desc;
    desc.digest = d;
    desc.size = static_cast<int64_t>(data.size());
    if (fs::exists(p.blob(d))) return desc;
    auto [out, tmp] = BOCK_TRY(tmp_file(p));
    BOCK_TRY(write_all(out.get(), data.data(), data.size(), tmp).context(what));
    if (::fsync(out.get()) < 0) return errno_error("fsync `{}`", tmp);
    out.reset();
    BOCK_TRY(commit_blob(p, tmp, d));
    return desc;
}

Result<std::string> read_blob(const StorePaths& p, const Digest& d) {
    return fs::read_file(p.blob(d)).context(fmt::format("read blob {}", d.str()));
}

// ---- layers ---------------------------------------------------------------

namespace {

thread_local uint64_t tree_size_acc = 0;
int tree_size_cb(const char*, const struct stat* st, int type, struct FTW*) {
    if (type == FTW_F && S_ISREG(st->st_mode)) tree_size_acc += static_cast<uint64_t>(st->st_size);
    return 0;
}

uint64_t tree_size(const std::string& dir) {
    tree_size_acc = 0;
    ::nftw(dir.c_str(), tree_size_cb, 16, FTW_PHYS | FTW_MOUNT);
    return tree_size_acc;
}

}  // namespace

Result<uint64_t> ensure_layer(const StorePaths& p, const Digest& diff_id, const Digest& blob,
                              const StoreOptions& opts) {
    std::string dest = p.layer(diff_id);
    if (fs::is_dir(dest)) return tree_size(dest);  // extracted once, shared
    std::string blob_path = p.blob(blob);
    std::string tmp = BOCK_TRY(fs::make_temp_dir(p.tmp(), "extract-"));
    ::chmod(tmp.c_str(), 0755);  // the layer root's mode unless the tar has "./"
    Fd fd = BOCK_TRY(sys::open(blob_path, O_RDONLY));
    ExtractOptions eo;
    eo.rootless = opts.rootless;
    eo.single_id = opts.single_id;
    // One pass: decompress, hash (the diff_id) and extract; the directory
    // is renamed into layers/ only once the hash matches.
    auto stats = extract_layer(fd.get(), tmp, eo);
    if (!stats || stats->diff_id != diff_id) {
        (void)fs::remove_all(tmp);
        if (!stats) return std::move(stats).error().wrap(fmt::format("layer {}", diff_id.str()));
        return make_error("layer {}: diff_id mismatch (uncompressed content is {})", diff_id.str(),
                          stats->diff_id.str());
    }
    test_hooks::kill_point("load-layer-partial");
    BOCK_TRY(fs::mkdir_p(p.layers(), 0700));
    if (::rename(tmp.c_str(), dest.c_str()) < 0) return errno_error("rename `{}` to `{}`", tmp, dest);
    return stats->bytes;
}

Result<ImageRecord> commit_image(const StorePaths& p, const std::string& name, const Digest& manifest_digest,
                                 const StoreOptions& opts) {
    auto mtext = BOCK_TRY(read_blob(p, manifest_digest));
    auto m = BOCK_TRY_CTX(parse_manifest(mtext), fmt::format("manifest {}", manifest_digest.str()));
    auto ctext = BOCK_TRY(read_blob(p, m.config.digest));
    auto c = BOCK_TRY_CTX(parse_image_config(ctext), fmt::format("config {}", m.config.digest.str()));
    if (c.diff_ids.size() != m.layers.size())
        return make_error("image `{}`: manifest has {} layers but config lists {} diff_ids", name,
                          m.layers.size(), c.diff_ids.size());
    ImageRecord r;
    r.name = name;
    r.manifest = manifest_digest;
    r.config = m.config.digest;
    r.diff_ids = c.diff_ids;
    r.created = parse_created(c.created);
    for (size_t i = 0; i < m.layers.size(); i++)
        r.size += BOCK_TRY(ensure_layer(p, c.diff_ids[i], m.layers[i].digest, opts).context(fmt::format("image `{}`", name)));
    return r;
}

Result<ImageRecord> fetch_image(const StorePaths& p, const Descriptor& manifest, const std::string& name,
                                const FetchBlob& fetch, const StoreOptions& opts) {
    if (!fs::exists(p.blob(manifest.digest))) BOCK_TRY(fetch(manifest));
    auto mtext = BOCK_TRY(read_blob(p, manifest.digest));
    auto m = BOCK_TRY_CTX(parse_manifest(mtext), fmt::format("manifest {}", manifest.digest.str()));
    if (!fs::exists(p.blob(m.config.digest))) BOCK_TRY(fetch(m.config));
    for (const auto& l : m.layers)
        if (!fs::exists(p.blob(l.digest))) BOCK_TRY(fetch(l));
    return commit_image(p, name, manifest.digest, opts);
}

int64_t parse_created(const std::string& created) {
    struct tm tm{};
    const char* end = ::strptime(created.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (!end) return 0;
    return static_cast<int64_t>(::timegm(&tm));
}

}  // namespace bock::image::detail
