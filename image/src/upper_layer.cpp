// A container's change set as a layer blob: the overlay upper directory
// walked in sorted order (tree_walk.cpp) into a pax tar whose bytes are
// hashed (the diff_id) and compressed (gzip with igzip, zstd with
// libarchive's filter) straight into the store's BlobWriter, so the
// layer is read once and written once. Also `bock export`'s tar of a tree.
#include "upper_layer.hpp"

#include <unistd.h>

#include <archive_entry.h>

#include "archive_util.hpp"
#include "bock/common/sys.hpp"
#include "bock/common/test_hooks.hpp"
#include "gzip_deflate.hpp"
#include "tree_walk.hpp"

namespace bock::image {

Result<Compression> parse_compression(const std::string& s) {
    if (s == "gzip") return Compression::gzip;
    if (s == "zstd") return Compression::zstd;
    return make_error("unknown compression `{}`", s).with_hint("use gzip or zstd");
}

namespace detail {

namespace {

// The compressor writing into the blob: gzip with igzip (gzip_deflate.hpp),
// zstd with libarchive's filter over its "raw" format (one nameless entry).
struct Compressor {
    BlobWriter* blob = nullptr;
    std::optional<GzipDeflater> gzip;
    ArchiveWriter a;
    std::optional<Error> err;

    static la_ssize_t write_cb(struct archive*, void* data, const void* buf, size_t len) {
        auto* self = static_cast<Compressor*>(data);
        if (auto r = self->blob->write(buf, len); !r) {
            self->err = r.error();
            return -1;
        }
        return static_cast<la_ssize_t>(len);
    }

    Result<void> open(BlobWriter& w, Compression c) {
        blob = &w;
        if (c == Compression::gzip) {
            gzip.emplace([this](const void* b, size_t n) { return blob->write(b, n); });
            return ok();
        }
        a.reset(archive_write_new());
        if (!a) return make_error("compress layer: out of memory");
        archive_write_set_format_raw(a.get());
        if (archive_write_add_filter_zstd(a.get()) < ARCHIVE_WARN)
            return make_error("compress layer: zstd: {}", archive_err(a.get()));
        archive_write_set_bytes_per_block(a.get(), 0);
        if (archive_write_open(a.get(), this, nullptr, &write_cb, nullptr) != ARCHIVE_OK)
            return failed("open");
        ArchiveEntry e(archive_entry_new());
        archive_entry_set_pathname(e.get(), "layer.tar");
        archive_entry_set_filetype(e.get(), AE_IFREG);
        if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return failed("header");
        return ok();
    }
    Error failed(std::string_view what) {
        if (err) return *err;
        return make_error("compress layer: {}: {}", what, archive_err(a.get()));
    }
    Result<void> write(const void* buf, size_t len) {
        if (gzip) return gzip->write(buf, len);
        if (archive_write_data(a.get(), buf, len) < 0) return failed("write");
        return ok();
    }
    Result<void> close() {
        if (gzip) return gzip->finish();
        if (archive_write_close(a.get()) != ARCHIVE_OK) return failed("close");
        return ok();
    }
};

// The tar writer: every byte hashed (the diff_id), counted and handed on.
struct TarSink {
    std::function<Result<void>(const void*, size_t)> out;
    Sha256 hash;
    int64_t size = 0;
    std::optional<Error> err;
    ArchiveWriter a;

    static la_ssize_t write_cb(struct archive*, void* data, const void* buf, size_t len) {
        auto* self = static_cast<TarSink*>(data);
        self->hash.update(buf, len);
        self->size += static_cast<int64_t>(len);
        if (auto r = self->out(buf, len); !r) {
            self->err = r.error();
            return -1;
        }
        return static_cast<la_ssize_t>(len);
    }
    Result<void> open() {
        a.reset(archive_write_new());
        if (!a) return make_error("write tar: out of memory");
        archive_write_set_format_pax_restricted(a.get());
        archive_write_add_filter_none(a.get());
        if (archive_write_open(a.get(), this, nullptr, &write_cb, nullptr) != ARCHIVE_OK)
            return make_error("write tar: {}", archive_err(a.get()));
        return ok();
    }
    Result<void> close() {
        if (archive_write_close(a.get()) != ARCHIVE_OK) {
            if (err) return *err;
            return make_error("write tar: {}", archive_err(a.get()));
        }
        return ok();
    }
};

}  // namespace

Result<UpperLayer> write_upper_layer(const StorePaths& p, const std::string& upper, const CommitOptions& opts,
                                     const CopyChanges* only) {
    auto blob = BOCK_TRY(BlobWriter::create(p, std::nullopt, "layer", "commit"));
    Compressor comp;
    BOCK_TRY(comp.open(blob, opts.compression));
    TarSink tar;
    tar.out = [&](const void* b, size_t n) { return comp.write(b, n); };
    BOCK_TRY(tar.open());
    WalkOptions wo;
    wo.overlay_upper = only == nullptr;
    wo.single_id = opts.single_id;
    wo.only = only;
    TarEntryOptions to;
    to.clamp_mtime = opts.timestamp;
    UpperLayer out;
    BOCK_TRY_CTX(walk_tree(upper, wo,
                           [&](const TreeEntry& e, int dirfd, const char* name) -> Result<void> {
                               out.entries++;
                               auto r = write_tar_entry(tar.a.get(), e, dirfd, name, to);
                               if (!r && tar.err) return *tar.err;
                               return r;
                           }),
                 fmt::format("read the changes in `{}`", upper));
    BOCK_TRY(tar.close());
    BOCK_TRY(comp.close());
    out.diff_id = tar.hash.finish();
    out.blob = BOCK_TRY(blob.commit());
    out.blob.media_type = opts.docker_format ? media::docker_layer
                          : opts.compression == Compression::zstd ? media::oci_layer_zstd
                                                                  : media::oci_layer_gzip;
    test_hooks::kill_point("commit-layer-written");
    return out;
}

bool upper_is_empty(const std::string& upper) {
    bool empty = true;
    (void)walk_tree(upper, {}, [&](const TreeEntry&, int, const char*) -> Result<void> {
        empty = false;
        return make_error("stop");
    });
    return empty;
}

}  // namespace detail

Result<void> write_tree_tar(const std::string& root, int fd) {
    detail::TarSink tar;
    tar.out = [&](const void* b, size_t n) -> Result<void> {
        int r = sys::raw::write_all(fd, b, n);
        if (r < 0) return Error(-r, "write the tar");
        return ok();
    };
    BOCK_TRY(tar.open());
    BOCK_TRY(detail::walk_tree(root, {}, [&](const detail::TreeEntry& e, int dirfd, const char* name) -> Result<void> {
        auto r = detail::write_tar_entry(tar.a.get(), e, dirfd, name, {});
        if (!r && tar.err) return *tar.err;
        return r;
    }));
    return tar.close();
}

}  // namespace bock::image
