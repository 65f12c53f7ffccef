"""Serves ClickHouse's HTTP (and native) protocol from chDB's libchdb.so.

chDB embeds ClickHouse in clickhouse-local mode. Given a config file with listener ports and
a users file, `SYSTEM START LISTEN` opens the real server protocols; the never-ending query
below keeps the engine, and so the listeners, alive until this process is signalled.
It runs on the main thread because ClickHouse's stack-size check rejects other threads.
"""
import ctypes
import sys

lib_path, config_path, log_path = sys.argv[1], sys.argv[2], sys.argv[3]
lib = ctypes.CDLL(lib_path)
keep_serving = (
    "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; "
    "SELECT sleepEachRow(3) FROM system.numbers "
    "SETTINGS max_block_size=1, function_sleep_max_microseconds_per_block=0 FORMAT Null"
)
args = [
    b"clickhouse",
    b"--config-file=" + config_path.encode(),
    b"--log-level=warning",
    b"--logger.log=" + log_path.encode(),
    b"--multiquery",
    b"--query=" + keep_serving.encode(),
]
argv = (ctypes.c_char_p * len(args))(*args)


class LocalResultV2(ctypes.Structure):
    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("len", ctypes.c_size_t),
        ("_vec", ctypes.c_void_p),
        ("elapsed", ctypes.c_double),
        ("rows_read", ctypes.c_uint64),
        ("bytes_read", ctypes.c_uint64),
        ("error_message", ctypes.c_char_p),
    ]


lib.query_stable_v2.restype = ctypes.POINTER(LocalResultV2)
result = lib.query_stable_v2(len(args), argv)
# The serving query only returns when the engine stops or fails.
if result and result.contents.error_message:
    print("clickhouse failed: " + result.contents.error_message.decode(errors="replace"), file=sys.stderr)
sys.exit(1)
