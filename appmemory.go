// The app's memory model: how much memory gunicorn's workers and threads need, which the
// config check holds against appMemory.

package main

// The app's memory model, measured with the app's gunicorn config on loopback under a wrk load
// of workers x threads connections (PSS of the master and its workers): 2x4 42 MiB, 2x64 72 MiB,
// 8x8 157 MiB, 16x4 180 MiB, 16x64 254 MiB (341 MiB seen in longer runs). The estimate below is
// above every measurement but one; it must stay within appMemoryHeadroom of the container limit,
// or the kernel OOM-kills workers under load.
const (
	appMemoryBaseMiB      = 30
	appMemoryPerWorkerMiB = 12
	appMemoryPerThreadMiB = 0.3
	appMemoryHeadroom     = 0.8
)

// appMemoryEstimate is the estimated memory of the app's pod in MiB.
func appMemoryEstimate(workers, threads int) int {
	return int(appMemoryBaseMiB + float64(workers)*(appMemoryPerWorkerMiB+float64(threads)*appMemoryPerThreadMiB) + 0.5)
}
