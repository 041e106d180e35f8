import Synchronization

/// A multi-producer, single-consumer FIFO with a fixed capacity. `push` never waits: when the
/// queue is full the element is refused and the caller counts the drop.
public final class BoundedQueue<Element: Sendable>: Sendable {
    private struct State {
        var buffer: [Element] = []
        var head = 0
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?

        var count: Int { buffer.count - head }

        mutating func take(_ limit: Int) -> [Element] {
            let n = min(limit, count)
            let batch = Array(buffer[head..<head + n])
            head += n
            if head > 1024 && head * 2 > buffer.count {
                buffer.removeFirst(head)
                head = 0
            }
            return batch
        }
    }

    public let capacity: Int
    private let state: Mutex<State>

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        self.state = Mutex(State())
    }

    public var count: Int { state.withLock { $0.count } }

    /// Appends unless full or closed; false means the element was dropped.
    public func push(_ element: Element) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.closed, state.count < capacity else { return (false, nil) }
            state.buffer.append(element)
            let waiter = state.waiter
            state.waiter = nil
            return (true, waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Stops accepting elements; the consumer still drains what is queued.
    public func close() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.closed = true
            let waiter = state.waiter
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    public var isClosed: Bool { state.withLock { $0.closed } }

    /// Takes up to `limit` elements without waiting.
    public func drain(upTo limit: Int) -> [Element] {
        state.withLock { $0.take(limit) }
    }

    /// Waits until at least one element is queued, then takes up to `limit`; nil once closed and empty.
    /// Only one consumer may wait at a time.
    public func next(upTo limit: Int) async -> [Element]? {
        while true {
            let taken = state.withLock { state -> [Element]?? in
                if state.count > 0 { return .some(state.take(limit)) }
                return state.closed ? .some(nil) : .none
            }
            if let taken { return taken }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { state -> Bool in
                    if state.count > 0 || state.closed { return true }
                    state.waiter = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }
}
