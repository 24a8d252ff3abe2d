# Thin wrapper: dependencies, build, demo, test, bench, fuzz.
JOBS ?= $(shell nproc)
TEST_BUILD := build/test
RELEASE_BUILD := build/release
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 20

.PHONY: deps build build-test demo test bench fuzz format clang-check clean docs package package-check

deps:
	@scripts/install-deps

$(RELEASE_BUILD)/build.ninja:
	cmake -S . -B $(RELEASE_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXTDATA_TESTS=OFF -DEXTDATA_BENCH=ON

$(TEST_BUILD)/build.ninja:
	cmake -S . -B $(TEST_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DEXTDATA_SANITIZE=ON -DEXTDATA_TESTS=ON

build: deps $(RELEASE_BUILD)/build.ninja
	cmake --build $(RELEASE_BUILD) -j $(JOBS)

build-test: deps $(TEST_BUILD)/build.ninja
	cmake --build $(TEST_BUILD) -j $(JOBS)

demo: build
	scripts/demo

test: build-test
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

# docs/configuration.md from the settings tables of the kinds (a unit test fails when stale).
docs: build-test
	$(TEST_BUILD)/extdata config-reference > docs/configuration.md

# Debian packages (build/package/*.deb) from the release build; package-check installs them into a
# fresh Debian 12 root (as root) and checks the service (tests/package/check.sh).
package: build
	scripts/package $(RELEASE_BUILD) build/package

package-check: package
	tests/package/check.sh build/package

bench: build
	scripts/bench

fuzz: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEXTDATA_FUZZ=ON -DEXTDATA_TESTS=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_all
	scripts/run-fuzz $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Keeps the code compiling under clang 14 as well as GCC 12.
clang-check: deps
	CC=clang-14 CXX=clang++-14 cmake -S . -B build/clang -G Ninja -DEXTDATA_TESTS=ON
	cmake --build build/clang -j $(JOBS)

format:
	find src tools tests bench fuzz -name '*.cpp' -o -name '*.h' | xargs clang-format-14 -i

clean:
	rm -rf build
