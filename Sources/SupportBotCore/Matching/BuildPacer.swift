#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Lets an engine build that runs beside live chats step aside often. A build is one long stretch of work; the
/// scheduler lets it finish its time slice (a few milliseconds) before a chat thread that has just woken up gets its
/// core. On a paced thread the build's loops call `breathe()`, which gives the core up whenever `slice` of work has
/// gone by: a waiting chat runs at once, and when nothing waits the build carries on with no delay.
enum BuildPacer {
    /// Work between two yields, in nanoseconds (0.2 ms: a 0.5 ms slice left more replies late while a version was
    /// built; see docs/performance.md).
    static let slice: UInt64 = 200_000

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Runs `work` with pacing on for this thread (nested calls just run it).
    static func pacing<Value>(_ work: () throws -> Value) rethrows -> Value {
        guard pthread_getspecific(key) == nil else { return try work() }
        let lastYield = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        lastYield.initialize(to: now())
        pthread_setspecific(key, lastYield)
        defer {
            pthread_setspecific(key, nil)
            lastYield.deallocate()
        }
        return try work()
    }

    /// Called in the loops of a build. On a paced thread, yields the core once a slice of work is done; elsewhere it
    /// does nothing.
    static func breathe() {
        guard let raw = pthread_getspecific(key) else { return }
        let lastYield = raw.assumingMemoryBound(to: UInt64.self)
        let time = now()
        guard time &- lastYield.pointee >= slice else { return }
        sched_yield()
        lastYield.pointee = now()
    }

    private static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }
}
