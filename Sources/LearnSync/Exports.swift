// `import LearnSync` is all an app needs: the facade (`LearnSyncClient`) and the types its API
// names, re-exported one by one. The modules' plumbing (sync rounds, codecs, the merge's
// internals) stays behind `package` access; `docs/API.md` lists every public symbol.

@_exported public import struct LearnSyncModels.LearnerID
@_exported public import struct LearnSyncModels.ReplicaID
@_exported public import struct LearnSyncModels.CourseID
@_exported public import struct LearnSyncModels.ItemID
@_exported public import struct LearnSyncModels.EventID
@_exported public import struct LearnSyncModels.HLCTimestamp
@_exported public import struct LearnSyncModels.ProgressEvent
@_exported public import struct LearnSyncModels.EventKey
@_exported public import struct LearnSyncModels.SeenEvents
@_exported public import struct LearnSyncModels.Catalog
@_exported public import struct LearnSyncModels.Course
@_exported public import struct LearnSyncModels.Lesson
@_exported public import struct LearnSyncModels.Quiz
@_exported public import struct LearnSyncModels.Question
@_exported public import struct LearnSyncModels.AnswerOption
@_exported public import struct LearnSyncModels.Scenario
@_exported public import struct LearnSyncModels.CertificateRule
@_exported public import struct LearnSyncModels.CatalogConflict
@_exported public import struct LearnSyncModels.ModelError
@_exported public import struct LearnSyncModels.SystemWallClock
@_exported public import enum LearnSyncModels.EventPayload
@_exported public import protocol LearnSyncModels.WallClock
@_exported public import protocol LearnSyncModels.ValidatedIdentifier

@_exported public import struct LearnSyncMerge.CourseProgress
@_exported public import struct LearnSyncMerge.LessonProgress
@_exported public import struct LearnSyncMerge.QuizProgress
@_exported public import struct LearnSyncMerge.ScenarioProgress
@_exported public import struct LearnSyncMerge.ResumePoint
@_exported public import struct LearnSyncMerge.CertificateStatus
@_exported public import struct LearnSyncMerge.ResetMark
@_exported public import enum LearnSyncMerge.LessonStatus

@_exported public import struct LearnSyncStorage.DeviceIdentity
@_exported public import struct LearnSyncStorage.RecordEntry
@_exported public import struct LearnSyncStorage.RejectedEvent
@_exported public import struct LearnSyncStorage.DeviceNotice
@_exported public import struct LearnSyncStorage.StorageError
@_exported public import class LearnSyncStorage.DeviceStore
@_exported public import class LearnSyncStorage.FileSecretStore
@_exported public import class LearnSyncStorage.MemorySecretStore
@_exported public import protocol LearnSyncStorage.SecretStore
#if canImport(Security)
@_exported public import struct LearnSyncStorage.KeychainSecretStore
#endif
@_exported public import enum LearnSyncStorage.SecretName

@_exported public import struct LearnSyncProtocol.Problem
@_exported public import struct LearnSyncProtocol.ExportDocument
@_exported public import struct LearnSyncProtocol.XAPIStatement
@_exported public import struct LearnSyncProtocol.XAPIStatementResult
@_exported public import struct LearnSyncProtocol.ProgressResponse
@_exported public import struct LearnSyncProtocol.CourseReport
@_exported public import struct LearnSyncProtocol.DeleteAccountResponse
@_exported public import enum LearnSyncProtocol.ProblemCode
@_exported public import enum LearnSyncProtocol.RejectionCode
