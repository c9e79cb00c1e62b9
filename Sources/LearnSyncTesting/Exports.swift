// The server-backed helpers come with the client-only ones.
@_exported public import LearnSyncTestSupport
