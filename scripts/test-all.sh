#!/usr/bin/env bash
# The whole test suite: build, unit tests, NIF tests, integration tests on
# real ejabberd nodes, then the C++ core again under ASan+UBSan and TSan.
# Needs root (test nodes run as the ejabberd user) and scripts/install-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== format check"
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

echo "== build and test (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure

echo "== C++ and NIF tests under AddressSanitizer + UndefinedBehaviorSanitizer"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCHATADM_SANITIZE=address,undefined
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure

echo "== concurrency tests under ThreadSanitizer"
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DCHATADM_SANITIZE=thread \
    -DCHATADM_BUILD_ERLANG=OFF -DCHATADM_BUILD_CLI=OFF
cmake --build build-tsan -j"$jobs" --target unread_concurrency_tests
TSAN_OPTIONS=halt_on_error=1 ctest --test-dir build-tsan --output-on-failure -R IndexConcurrency
