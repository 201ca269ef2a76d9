// The hostile-input scenario shared by the rootless and root suites: every
// case of the corpus written by bock-mkhostile (tests/fixtures/hostile.cpp)
// goes through `bock load` (and a few through a docker-registry and `bock
// pull`); lies only a custom server tells go through lying_registry.py.
// Each refusal must name the cause, leave the store as it was and write
// nothing outside; each handled case must have the documented result.
#pragma once

namespace bock::test {

// All corpus cases through `bock load`, then a few through `bock pull`.
void check_hostile_corpus();
// Digest lies from tests/lib/lying_registry.py through `bock pull`.
void check_lying_registry();

}  // namespace bock::test
