# Sourced by the benchmark and check scripts, from the repository root: builds the release
# convsweep (in $CONVSWEEP_SCRATCH, default .build) and sets $convsweep to the executable.
scratch=${CONVSWEEP_SCRATCH:-.build}
swift build -c release --scratch-path "$scratch" --product convsweep >&2
convsweep="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/convsweep"
