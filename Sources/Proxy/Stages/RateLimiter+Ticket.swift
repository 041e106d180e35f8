extension RateLimiter.Ticket {
    /// One ticket holding both tickets' subjects, so a request admitted in two steps (its caller
    /// from the headers, then its end user from the body) gives every slot back when it settles.
    /// Both were taken under the request's id as their lease; the first's headers win, being
    /// the caller's own.
    func adding(_ other: RateLimiter.Ticket) -> RateLimiter.Ticket {
        RateLimiter.Ticket(
            subjects: subjects + other.subjects, headers: headers.isEmpty ? other.headers : headers,
            lease: lease ?? other.lease)
    }
}
