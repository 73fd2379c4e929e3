"""Stand-in for Huawei's npu_bridge (TF Adapter), for tests only."""
