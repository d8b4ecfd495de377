#!/usr/bin/env python3
"""Builds sagemaker_instances.json from the public files named in README.md.

Run from the repository root:  python3 data/catalog/make_catalog.py > data/catalog/sagemaker_instances.json
It reads /work/shared/data (see its PROVENANCE.md) and the SageMaker service
model that ships with botocore (pip package). Nothing is fetched from the network;
every number in the output comes from one of the sources listed in SPEC_SOURCES
and PRICE_SOURCES, and each entry names the sources it used.
"""
import gzip
import json
import os
import re
import sys

DATA = os.environ.get("SAGEBOX_SHARED_DATA", "/work/shared/data")
AS_OF = "2026-11-25"

FAMILIES = {  # family -> category, in the order the catalog lists them
    "t2": "burstable", "t3": "burstable",
    "m4": "general", "m5": "general", "m5d": "general", "m6i": "general", "m7i": "general",
    "c4": "compute", "c5": "compute", "c5d": "compute", "c6i": "compute", "c7i": "compute",
    "r5": "memory", "r5d": "memory", "r6i": "memory", "r7i": "memory",
    "g4dn": "accelerated", "g5": "accelerated", "g6": "accelerated", "g6e": "accelerated",
    "p2": "accelerated", "p3": "accelerated", "p3dn": "accelerated", "p4d": "accelerated",
    "p4de": "accelerated", "p5": "accelerated",
    "inf1": "accelerated", "inf2": "accelerated", "trn1": "accelerated",
}
GPU_MODEL = {
    "g4dn": "NVIDIA T4", "g5": "NVIDIA A10G", "g6": "NVIDIA L4", "g6e": "NVIDIA L40S",
    "p2": "NVIDIA K80", "p3": "NVIDIA V100", "p3dn": "NVIDIA V100", "p4d": "NVIDIA A100",
    "p4de": "NVIDIA A100 80GB", "p5": "NVIDIA H100",
}
ACCEL_MODEL = {"inf1": "AWS Inferentia", "inf2": "AWS Inferentia2", "trn1": "AWS Trainium"}

SPEC_SOURCES = {
    "ec2-2024": "EC2 specs (vCPU, memory GiB, GPU count and GiB) from vantage-sh/ec2instances.info "
                "data file instances.json, commit 7b46b5bb (2024-04-18), shared/data/ec2instances-info/opszero-app",
    "sdk-gpu": "GPU count and total GPU memory from aws/sagemaker-python-sdk "
               "src/sagemaker/image_uri_config/instance_gpu_info.json, commit 53cb6f82",
    "manual-aws": "Not in the 2024 data: vCPU, memory and GPUs transcribed from AWS's published EC2 "
                  "G6/G6e/P5 instance specifications (g6e vCPU/memory/GPU count match "
                  "meta-pytorch/torchx torchx/specs/named_resources_aws.py); not verified against a file here",
    "sizes": "Sizes are those the SageMaker API accepts (enums InstanceType, TrainingInstanceType, "
             "ProductionVariantInstanceType, ProcessingInstanceType, AppInstanceType, TransformInstanceType) "
             "in the SageMaker service model of botocore 1.43.11 (sagemaker/2017-07-24/service-2.json)",
}
PRICE_SOURCES = {
    "AWS ML Blog, SageMaker cost series, 2023": "AWS ML Blog, 'Analyze Amazon SageMaker spend and determine cost optimization "
                     "opportunities based on usage', Parts 2 and 3 (2023): notebook ml.t2.medium $0.0464/h, "
                     "Studio ml.t3.medium $0.05/h, Data Wrangler ml.m5.4xlarge $0.922/h (region not named; "
                                                "us-east-1 assumed)",
    "aws-samples FMBench pricing.yml, 2025-04": "aws-samples/foundation-model-benchmarking-tool fmbench/configs/pricing.yml, commit "
                    "39ce6b9c (2025-04-11): SageMaker hosting on-demand $/h (region not stated; us-east-1 assumed)",
    "sagemaker-ssh-helper sample bill, 2023-12": "aws-samples/sagemaker-ssh-helper Sample_Costs.md (real bill, Dec 2023, "
                               "EU (Ireland)): per-hour rates printed on the line items",
}

# us-east-1 anchors quoted in the source articles.
ARTICLE = {"ml.t2.medium": "0.0464", "ml.t3.medium": "0.05", "ml.m5.4xlarge": "0.922"}

# Specs for types the 2024 EC2 data lacks: vcpu, memory GiB, gpus, GPU GiB total.
MANUAL = {
    "g6.xlarge": (4, 16, 1, 24), "g6.2xlarge": (8, 32, 1, 24), "g6.4xlarge": (16, 64, 1, 24),
    "g6.8xlarge": (32, 128, 1, 24), "g6.16xlarge": (64, 256, 1, 24), "g6.12xlarge": (48, 192, 4, 96),
    "g6.24xlarge": (96, 384, 4, 96), "g6.48xlarge": (192, 768, 8, 192),
    "g6e.xlarge": (4, 32, 1, 48), "g6e.2xlarge": (8, 64, 1, 48), "g6e.4xlarge": (16, 128, 1, 48),
    "g6e.8xlarge": (32, 256, 1, 48), "g6e.16xlarge": (64, 512, 1, 48), "g6e.12xlarge": (48, 384, 4, 192),
    "g6e.24xlarge": (96, 768, 4, 192), "g6e.48xlarge": (192, 1536, 8, 384),
    "p5.4xlarge": (16, 256, 1, 80),
}


def num(x):
    return int(x) if float(x) == int(x) else float(x)


def main():
    ec2 = {}
    for r in json.load(open(f"{DATA}/ec2instances-info/opszero-app/instances.json"))["data"]:
        ec2[r["instance-type"]] = r
    sdk = json.load(open(f"{DATA}/sagemaker-python-sdk-gpu-info/src/sagemaker/image_uri_config/"
                         "instance_gpu_info.json"))["us-east-1"]
    # Upstream typo: the SDK file has ml.g5n.xlarge where ml.g5.xlarge is meant.
    if "ml.g5n.xlarge" in sdk and "ml.g5.xlarge" not in sdk:
        sdk["ml.g5.xlarge"] = sdk["ml.g5n.xlarge"]
    import botocore
    model = os.path.join(os.path.dirname(botocore.__file__), "data/sagemaker/2017-07-24/service-2.json.gz")
    shapes = json.load(gzip.open(model))["shapes"]
    offered = set()
    for s in ["InstanceType", "TrainingInstanceType", "ProductionVariantInstanceType",
              "ProcessingInstanceType", "AppInstanceType", "TransformInstanceType"]:
        offered |= set(shapes[s]["enum"])

    prices = {}  # type -> region -> (price, source)
    notes = []

    def add(t, region, p, src):
        cur = prices.setdefault(t, {}).get(region)
        if cur and cur[0] != p:
            notes.append(f"price conflict {t} {region}: {cur} kept, {p} ({src}) dropped")
            return
        prices[t].setdefault(region, (p, src))

    for t, p in ARTICLE.items():
        add(t, "us-east-1", p, "AWS ML Blog, SageMaker cost series, 2023")
    in_block = False
    for line in open(f"{DATA}/fmbench-pricing/fmbench/configs/pricing.yml"):
        if line.strip() == "instance_based:":
            in_block = True
            continue
        if in_block:
            m = re.match(r"\s+(ml\.[a-z0-9.]+):\s*([0-9.]+)\s*$", line)
            if m:
                add(m.group(1), "us-east-1", m.group(2), "aws-samples FMBench pricing.yml, 2025-04")
            elif line.strip().endswith(":") and not line.startswith("    "):
                in_block = False
    bill = open(f"{DATA}/sagemaker-ssh-helper-sample-costs/Sample_Costs.md").read()
    for m in re.finditer(r"\$([0-9.]+) per [A-Za-z -]+ (ml\.[a-z0-9.]+) hour in (?:EU|Europe) \(Ireland\)", bill):
        add(m.group(2), "eu-west-1", m.group(1), "sagemaker-ssh-helper sample bill, 2023-12")

    out = []
    for fam, cat in FAMILIES.items():
        types = [t for t in offered if t.startswith(f"ml.{fam}.")]
        for t in types:
            e = t[3:]
            size = e.split(".", 1)[1]
            spec_src = []
            if e in ec2:
                r = ec2[e]
                vcpu, mem, gpus, gmem = r["vCPU"], r["memory"], r["GPU"], r["GPU_memory"]
                spec_src.append("ec2-2024")
            elif e in MANUAL:
                vcpu, mem, gpus, gmem = MANUAL[e]
                spec_src.append("manual-aws")
            else:
                notes.append(f"no specs for {t}: left out")
                continue
            accel = 0
            if fam in ACCEL_MODEL:  # Neuron devices are not GPUs
                accel, gpus, gmem = gpus, 0, 0
            if t in sdk:
                sc, sm = sdk[t]["Count"], sdk[t]["TotalGpuMemoryInMiB"] / 1024
                if sc != gpus or abs(sm - gmem) > 0.01:
                    notes.append(f"{t}: EC2 data {gpus} GPU/{gmem} GiB, SDK {sc} GPU/{sm:g} GiB; count from SDK, "
                                 f"memory {'EC2' if sc == gpus or gmem else 'SDK'}")
                gpus = sc
                if gmem == 0:
                    gmem = sm
                spec_src.append("sdk-gpu")
            entry = {
                "type": t, "family": fam, "size": size, "category": cat,
                "vcpu": vcpu, "memory_gib": num(mem), "gpus": gpus, "gpu_memory_gib": num(gmem),
                "gpu_model": GPU_MODEL.get(fam, "") if gpus else "",
            }
            if accel:
                entry["accelerators"] = accel
                entry["accelerator_model"] = ACCEL_MODEL[fam]
            entry["spec_source"] = "+".join(spec_src)
            p = prices.get(t)
            if p:
                entry["prices"] = {reg: v[0] for reg, v in sorted(p.items())}
                srcs = {v[1] for v in p.values()}
                entry["price_source"] = srcs.pop() if len(srcs) == 1 else {reg: v[1] for reg, v in sorted(p.items())}
            out.append(entry)
    out.sort(key=lambda x: (list(FAMILIES).index(x["family"]), x["vcpu"], x["memory_gib"]))
    known = {x["type"] for x in out}
    for t in prices:
        if t not in known:
            notes.append(f"price for {t} has no catalog entry: dropped")
    doc = {
        "source": "sagebox SageMaker instance catalog: specs of EC2 X for ml.X (ec2instances.info 2024, "
                  "SageMaker Python SDK GPU table), sizes from the SageMaker API model, on-demand prices from "
                  "the sources in price_sources; see data/catalog/README.md",
        "as_of": AS_OF,
        "spec_sources": {**SPEC_SOURCES},
        "price_sources": PRICE_SOURCES,
        "instances": out,
    }
    # One instance per line: easy to read, diff and override by copy.
    lines = ["{"]
    for k in ("source", "as_of"):
        lines.append(f' "{k}": {json.dumps(doc[k])},')
    for k in ("spec_sources", "price_sources"):
        lines.append(f' "{k}": {{')
        items = list(doc[k].items())
        for i, (kk, vv) in enumerate(items):
            lines.append(f'  {json.dumps(kk)}: {json.dumps(vv)}' + ("," if i + 1 < len(items) else ""))
        lines.append(" },")
    lines.append(' "instances": [')
    for i, e in enumerate(out):
        lines.append("  " + json.dumps(e) + ("," if i + 1 < len(out) else ""))
    lines.append(" ]")
    lines.append("}")
    print("\n".join(lines))
    for n in notes:
        print("note:", n, file=sys.stderr)


if __name__ == "__main__":
    main()
