import Testing

extension Tag {
    /// A suite that takes a minute or more on 2 cores (long simulations, many processes, full
    /// disks, package builds): `swift test --skip tag:slow` leaves them out of a quick loop.
    @Tag static var slow: Self
    /// A suite that measures how soon the server answers or cuts a connection: it runs alone
    /// (`Tools/test` runs each after the others), so that other tests' load does not count.
    @Tag static var timing: Self
    /// A suite that needs PostgreSQL (started by the tests; `LEARNSYNC_SKIP_POSTGRES=1` skips it).
    @Tag static var postgres: Self
}
