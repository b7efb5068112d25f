# The test environment node's sandbox image: one static binary (pause.c).
FROM scratch
COPY pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
