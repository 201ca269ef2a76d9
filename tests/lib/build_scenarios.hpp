// `bock build`, shared by the rootless ([build]) and root ([root-build])
// suites (build_scenarios.cpp).
#pragma once

#include <string>
#include <vector>

namespace bock::test {

// A corpus of Containerfiles (single stage with ARG/ENV interplay,
// .dockerignore, --chown/--chmod, ADD of a tar, deletions of base files,
// links, a trailing WORKDIR; multi-stage with COPY --from by name and
// index and an unused failing stage; ONBUILD) builds with bock and with
// `buildah bud --layers --format docker`; the flattened trees and configs
// are equal (tests/lib/flatten_image.py).
void check_build_equals_buildah();
// A rebuild with nothing changed takes every step from the cache and makes
// the same image and no layer; a change to a late COPY's source rebuilds
// from that step on; --no-cache rebuilds all.
void check_build_cache();
// Malformed Containerfiles fail with file:line and a hint and leave the
// store as it was; a failing RUN exits 1 with the step's place and leaves
// no container; a build killed at a named kill point leaves no image, and
// the next build removes the dead step's container.
void check_build_errors_and_crash();
// RUN --network=none|host|default and RUN --mount=type=bind (context, from=stage).
void check_build_run_network_and_bind();

// The corpus' fixtures, for the Bockfile front end (bockfile_scenarios.cpp).
struct BuildCorpusCase {
    std::string name, containerfile, target, context;  // target empty: the last stage
};
std::vector<BuildCorpusCase> build_corpus_contexts();  // each context written afresh
std::string build_base_image();                        // localhost/build-base:1, loaded
// flatten_image.py: the tree and the compared config fields of an OCI archive.
std::string flatten_image_archive(const std::string& archive);

}  // namespace bock::test
