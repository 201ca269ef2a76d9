// Private pieces of the image store shared by store*.cpp: paths, the index
// file, blob and layer writers. Writers must hold a WriteSession.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bock/common/error.hpp"
#include "bock/common/fd.hpp"
#include "bock/common/lock.hpp"
#include "bock/image/oci.hpp"
#include "bock/image/store.hpp"

namespace bock::image::detail {

struct StorePaths {
    std::string root;
    std::string blobs() const { return root + "/blobs/sha256"; }
    std::string blob(const Digest& d) const { return blobs() + "/" + d.hex; }
    std::string layers() const { return root + "/layers"; }
    std::string layer(const Digest& diff_id) const { return layers() + "/" + diff_id.hex; }
    std::string index() const { return root + "/images.json"; }
    std::string tmp() const { return root + "/tmp"; }
    std::string lock() const { return root + "/lock"; }
    std::string leases() const { return root + "/leases"; }
};

// The exclusive writer lock, with tmp/ emptied once it is held (no other
// writer can be using it).
class WriteSession {
public:
    static Result<WriteSession> begin(const StorePaths& p);

private:
    FileLock lock_;
};

Result<std::vector<ImageRecord>> read_index(const StorePaths& p);
Result<void> write_index(const StorePaths& p, const std::vector<ImageRecord>& records);
// Replaces records with the same name and appends the new ones, then
// writes the index (kill point "<hook>-before-index" first).
Result<void> add_to_index(const StorePaths& p, const std::vector<ImageRecord>& added,
                          const std::string& hook = "load");

// Writes one blob into blobs/ through a tmp/ file, hashing as it goes: the
// data is checked against `expected` (digest and size; a blob larger than
// its descriptor is refused as soon as it is) when given. The tmp file is
// removed unless commit() succeeds. Readers of archives and the registry
// client's download stream share it.
class BlobWriter {
public:
    // `hook` prefixes the test kill points ("<hook>-blob-partial",
    // "<hook>-blob-before-rename").
    static Result<BlobWriter> create(const StorePaths& p, std::optional<Descriptor> expected, std::string what,
                                     std::string hook = "load");
    ~BlobWriter();
    BlobWriter(BlobWriter&&) noexcept = default;
    BlobWriter& operator=(BlobWriter&&) noexcept = delete;

    Result<void> write(const void* data, size_t len);
    // Verifies, fsyncs and renames into blobs/; returns the descriptor.
    Result<Descriptor> commit();

private:
    BlobWriter() = default;
    StorePaths paths_;
    Fd out_;
    std::string tmp_;
    std::optional<Descriptor> expected_;
    std::string what_;
    Sha256 hash_;
    int64_t size_ = 0;
    bool announced_ = false;
    bool sync_ = true;
    std::string hook_;
};

// Reads `fd` to its end in 64 KiB chunks, passing each to `fn` (an error
// stops the loop); `what` names the file in a read error.
Result<void> for_each_chunk(int fd, const std::string& what,
                            const std::function<Result<void>(const char* data, size_t len)>& fn);

// Copies the blob read from `fd` into blobs/ through tmp/, checking its
// digest and size against `expected` when given. Returns the digest and size.
Result<Descriptor> put_blob_fd(const StorePaths& p, int fd, const std::optional<Descriptor>& expected,
                               const std::string& what);
Result<Descriptor> put_blob_data(const StorePaths& p, std::string_view data, const std::string& what);
Result<std::string> read_blob(const StorePaths& p, const Digest& d);

// Makes sure layers/<diff_id> holds the extracted layer blob (verifying the
// uncompressed stream's digest), extracting through tmp/. Returns its size.
Result<uint64_t> ensure_layer(const StorePaths& p, const Digest& diff_id, const Digest& blob,
                              const StoreOptions& opts);

// Stores an image whose manifest, config and layer blobs are all in blobs/:
// extracts its layers and returns the record (the index is not touched).
Result<ImageRecord> commit_image(const StorePaths& p, const std::string& name, const Digest& manifest_digest,
                                 const StoreOptions& opts);

// Puts the blob `d` into the store, verified against its descriptor (an OCI
// layout copies it, the registry client downloads it).
using FetchBlob = std::function<Result<void>(const Descriptor& d)>;

// The path shared by load and pull: fetches the image manifest `manifest`
// (unless already stored), its config and its layer blobs, then commits the
// image (layers extracted, diff_ids verified). The index is not touched.
Result<ImageRecord> fetch_image(const StorePaths& p, const Descriptor& manifest, const std::string& name,
                                const FetchBlob& fetch, const StoreOptions& opts);

// Store::pull with the options of the store (pull.cpp).
Result<ImageRecord> pull_image(const StorePaths& p, const Reference& ref, const PullOptions& opts,
                               const StoreOptions& so);

// ---- reference counting (store_refs.cpp) ----
std::vector<std::string> list_dir(const std::string& dir);
// Every lease, failing (naming the path) on anything it cannot read.
Result<std::vector<Lease>> read_leases(const StorePaths& p);
// A store opened for the first time by a Bock with leases: the containers
// recorded by the older front end in <root>/containers/<id>/container.json
// become leases (under the writer lock, published by one rename).
Result<void> migrate_leases(const StorePaths& p);
std::vector<Lease> users_of(const std::vector<Lease>& all, const std::vector<ImageRecord>& records,
                            const Digest& config);
// Deletes blobs and layers that neither `records` nor a lease uses.
Result<void> gc_locked(const StorePaths& p, const std::vector<ImageRecord>& records);

// Parses a created timestamp (RFC 3339) into unix seconds; 0 if unparsable.
int64_t parse_created(const std::string& created);

}  // namespace bock::image::detail

namespace bock::image::detail {

// Undoes what a failed load or pull wrote: blobs and layer directories that
// were not in the store when the guard was made, and tmp/'s contents, so a
// refused image (bad digest, hostile layer) leaves the store as it was.
// Create it once the WriteSession is held; keep() once the index is written.
// (A SIGKILL skips it: the next writer's tmp/ cleanup and gc handle that.)
class NewContentGuard {
public:
    explicit NewContentGuard(const StorePaths& p);
    ~NewContentGuard();
    NewContentGuard(const NewContentGuard&) = delete;
    NewContentGuard& operator=(const NewContentGuard&) = delete;
    void keep() { keep_ = true; }

private:
    StorePaths p_;
    std::vector<std::string> blobs_, layers_;  // sorted names present at the start
    bool keep_ = false;
};

}  // namespace bock::image::detail
