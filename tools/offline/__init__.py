"""The offline engine: the real program on the SDK's mock runtime, the plan printed like `pulumi preview`."""
