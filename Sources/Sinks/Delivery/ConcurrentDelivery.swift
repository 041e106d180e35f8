/// Delivers items one POST each, at most `limit` at a time, and counts those that arrived: for
/// destinations that take one request per call (Helicone, Sentry envelopes, `single` webhooks).
func countDelivered<Item: Sendable>(
    _ items: [Item], limit: Int = 8, _ deliver: @escaping @Sendable (Item) async -> Bool
) async -> Int {
    await withTaskGroup(of: Bool.self) { group in
        var next = 0
        var delivered = 0
        while next < items.count && next < limit {
            let item = items[next]
            group.addTask { await deliver(item) }
            next += 1
        }
        for await arrived in group {
            if arrived { delivered += 1 }
            if next < items.count {
                let item = items[next]
                group.addTask { await deliver(item) }
                next += 1
            }
        }
        return delivered
    }
}
