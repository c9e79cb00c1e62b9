// `import LearnSync` is all an app needs: the models, the progress types and the store.
@_exported public import LearnSyncMerge
@_exported public import LearnSyncModels
@_exported public import LearnSyncProtocol
@_exported public import LearnSyncStorage
