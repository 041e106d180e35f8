import Synchronization
import Testing

@testable import Evaluations

/// `Task.immediate` runs a task on the caller's thread up to its first suspension, so once it
/// returns, a task blocked in `acquire` is queued: the order of waiters is the order of the
/// calls, with no sleeps.
@Suite(.timeLimit(.minutes(3))) struct ConcurrencyLimitTests {
    /// A flag a task sets when it gets its slot, read by the test.
    final class Flag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    /// Holders now, the most at once, and how many ever got in.
    final class Holders: Sendable {
        struct Counts {
            var current = 0
            var most = 0
            var entered = 0
        }

        private let counts = Mutex(Counts())

        func enter() {
            counts.withLock {
                $0.current += 1
                $0.most = max($0.most, $0.current)
                $0.entered += 1
            }
        }

        func leave() { counts.withLock { $0.current -= 1 } }
        var now: Counts { counts.withLock { $0 } }
    }

    @Test func neverMoreHoldersThanTheLimit() async throws {
        let limit = ConcurrencyLimit(2)
        let counts = Holders()
        let (entries, entered) = AsyncStream<Int>.makeStream()
        var gates: [AsyncStream<Void>.Continuation] = []
        var tasks: [Task<Void, Never>] = []
        for index in 0..<6 {
            let (gate, open) = AsyncStream<Void>.makeStream()
            gates.append(open)
            tasks.append(
                Task.immediate {
                    guard await limit.acquire() else { return }
                    counts.enter()
                    entered.yield(index)
                    for await _ in gate { break }
                    counts.leave()
                    limit.release()
                })
        }
        // Two got in at once; four are waiting.
        #expect(counts.now.entered == 2)
        var entriesIterator = entries.makeAsyncIterator()
        var inside = [try #require(await entriesIterator.next()), try #require(await entriesIterator.next())]
        // Let one out at a time: each exit lets exactly one more in.
        for _ in 2..<6 {
            gates[inside.removeFirst()].yield()
            inside.append(try #require(await entriesIterator.next()))
            #expect(counts.now.current <= 2)
        }
        for index in inside { gates[index].yield() }
        for task in tasks { await task.value }
        let final = counts.now
        #expect(final.entered == 6)
        #expect(final.most == 2)
        #expect(final.current == 0)
    }

    @Test func waitersAreServedInTheOrderTheyCame() async {
        let limit = ConcurrencyLimit(1)
        #expect(await limit.acquire())
        let (order, record) = AsyncStream<String>.makeStream()
        let granted = Holders()
        var tasks: [Task<Void, Never>] = []
        for name in ["first", "second", "third", "fourth", "fifth"] {
            tasks.append(
                Task.immediate {
                    guard await limit.acquire() else { return }
                    granted.enter()
                    record.yield(name)
                    limit.release()
                })
        }
        #expect(granted.now.entered == 0)
        limit.release()
        for task in tasks { await task.value }
        record.finish()
        var seen: [String] = []
        for await name in order { seen.append(name) }
        #expect(seen == ["first", "second", "third", "fourth", "fifth"])
    }

    @Test func aWaiterCancelledWhileWaitingGetsFalseAndTakesNoSlot() async {
        let limit = ConcurrencyLimit(1)
        #expect(await limit.acquire())
        let cancelled = Task.immediate { await limit.acquire() }
        let behind = Task.immediate { await limit.acquire() }
        cancelled.cancel()
        #expect(await cancelled.value == false)
        // The slot given back goes to the next live waiter, not to the cancelled one.
        limit.release()
        #expect(await behind.value == true)
        // Still exactly one slot: with `behind` holding it, a newcomer waits.
        let flag = Flag()
        let newcomer = Task.immediate {
            let got = await limit.acquire()
            flag.set()
            return got
        }
        #expect(!flag.isSet)
        limit.release()
        #expect(await newcomer.value == true)
        limit.release()
        // And the slot is free again once given back.
        #expect(await limit.acquire())
    }

    @Test func aTaskCancelledBeforeItAsksGetsFalseEvenWithFreeSlots() async {
        let limit = ConcurrencyLimit(2)
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return await limit.acquire()
        }
        #expect(await early.value == false)
        // Both slots are still free; a third asker waits.
        #expect(await limit.acquire())
        #expect(await limit.acquire())
        let flag = Flag()
        let third = Task.immediate {
            let got = await limit.acquire()
            flag.set()
            return got
        }
        #expect(!flag.isSet)
        limit.release()
        #expect(await third.value == true)
    }

    @Test func aLimitBelowOneStillLetsOneThrough() async {
        let limit = ConcurrencyLimit(0)
        #expect(await limit.acquire())
        let flag = Flag()
        let second = Task.immediate {
            let got = await limit.acquire()
            flag.set()
            return got
        }
        #expect(!flag.isSet)
        limit.release()
        #expect(await second.value == true)
    }
}
