# The function image (func.yaml: runtime: docker). The same two stages as the Dockerfile the
# fn CLI generates for runtime: python, plus one step: tools/prune_oci.py drops the ~190 oci
# service packages the function never imports (and fdk's test-only dependencies), so
# /python is ~88 MiB instead of ~600 MiB. See tests/bench/RESULTS.md for the figures and
# tests/bench/bench_size.py for the proof (the integration tests run against a pruned tree).
FROM fnproject/python:3.12-dev AS build-stage
WORKDIR /function
COPY requirements.txt /function/
COPY tools/prune_oci.py /function/tools/
RUN pip3 install --target /python/ --no-cache --no-cache-dir -r requirements.txt && \
    python3 tools/prune_oci.py /python/ && \
    rm -fr ~/.cache/pip /tmp/* requirements.txt tools
COPY func.py tag_policy.yaml /function/
COPY sync/ /function/sync/
# Bytecode at build time: /function may be read-only at run time, and compiling sync/ on every
# cold start would cost what the pruning saves in image pull time.
RUN python3 -m compileall -q /function && chmod -R o+r /python /function

FROM fnproject/python:3.12
WORKDIR /function
COPY --from=build-stage /python /python
COPY --from=build-stage /function /function
ENV PYTHONPATH=/function:/python
ENTRYPOINT ["/python/bin/fdk", "/function/func.py", "handler"]
