"""The seed article's boto3 cells, unchanged but for endpoint_url, against `sagebox endpoint serve`.

Usage: /usr/bin/python3 article_cells.py URL STORE_DIR

Creates the multi-model endpoint with the control-plane calls the article makes (CreateModel with
Mode MultiModel, CreateEndpointConfig, CreateEndpoint, DescribeEndpoint until InService), then runs
its four invocation cells (base, depth, inpaint, upscale) with TargetModel and checks each answer
is a PNG of the size the cell implies: 512x512 from the base model; depth and inpaint keep their
input's size; the x4 upscaler turns 128x128 into 512x512. Ends with ListEndpoints and
DeleteEndpoint. Exits non-zero with a message on the first mismatch.
"""
import base64
import io
import json
import sys
import time

import boto3
from botocore.config import Config
from PIL import Image

url, store = sys.argv[1], sys.argv[2]
session = boto3.session.Session(aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
                                region_name="us-east-1")
# A CPU (and, in the tests, Debug) build is slower than the article's GPU: wait longer than
# botocore's 60 s, and never re-send a generation that is still running.
config = Config(read_timeout=600, retries={"max_attempts": 1})
sm_client = session.client("sagemaker", endpoint_url=url, config=config)
runtime_sm_client = session.client("sagemaker-runtime", endpoint_url=url, config=config)


def check(cond, message):
    if not cond:
        print("FAIL:", message)
        sys.exit(1)


# The article's helpers (notebook cells "encode_image" / "decode_image").
def encode_image(img):
    buffered = io.BytesIO()
    img.save(buffered, format="JPEG")
    return base64.b64encode(buffered.getvalue())


def decode_image(img):
    buff = io.BytesIO(base64.b64decode(img.encode("utf8")))
    return Image.open(buff)


# --- Deploy the SageMaker MME (the article's cells, ModelDataUrl on local disk) ---
endpoint_name = "sd-mme-endpoint"
sm_model_name = "sd-mme-model"
endpoint_config_name = "sd-mme-config"
model_data_url = "file://" + store
container = {"Image": "sagebox", "ModelDataUrl": model_data_url, "Mode": "MultiModel"}
sm_client.create_model(ModelName=sm_model_name,
                       ExecutionRoleArn="arn:aws:iam::000000000000:role/sagemaker",
                       PrimaryContainer=container)
sm_client.create_endpoint_config(
    EndpointConfigName=endpoint_config_name,
    ProductionVariants=[{
        "InstanceType": "ml.g5.2xlarge",
        "InitialVariantWeight": 1,
        "InitialInstanceCount": 1,
        "ModelName": sm_model_name,
        "VariantName": "AllTraffic",
    }],
)
sm_client.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=endpoint_config_name)
status = ""
for _ in range(30):
    status = sm_client.describe_endpoint(EndpointName=endpoint_name)["EndpointStatus"]
    if status == "InService":
        break
    time.sleep(1)
check(status == "InService", "endpoint status " + status)


def invoke(target, inputs):
    payload = {
        "inputs": [{"name": name, "shape": [1, 1], "datatype": "BYTES", "data": [data]}
                   for name, data in inputs.items()]
    }
    response = runtime_sm_client.invoke_endpoint(
        EndpointName=endpoint_name,
        ContentType="application/octet-stream",
        Body=json.dumps(payload),
        TargetModel=target,
    )
    output = json.loads(response["Body"].read().decode("utf8"))["outputs"]
    return decode_image(output[0]["data"][0])


# --- Cell 1: the base model ---
inputs = dict(prompt="Infinity pool on top of a high rise overlooking Central Park",
              negative_prompt="blur,low detail, low quality",
              gen_args=json.dumps(dict(num_inference_steps=50, guidance_scale=8)))
output_image = invoke("sd_base.tar.gz", inputs)
check(output_image.format == "PNG", "base: not a PNG")
check(output_image.size == (512, 512), "base: size %s" % (output_image.size,))
print("base", output_image.size)

# --- Cell 2: depth, from the base image ---
original_image = output_image.convert("RGB")
image = encode_image(original_image).decode("utf8")
inputs = dict(prompt="highly detailed oil painting of an inifinity pool overlooking central park",
              image=image,
              gen_args=json.dumps(dict(num_inference_steps=50, strength=0.9)))
depth = invoke("sd_depth.tar.gz", inputs)
check(depth.size == original_image.size, "depth: size %s" % (depth.size,))
print("depth", depth.size)

# --- Cell 3: inpaint, with a mask (white = repaint) ---
mask = Image.new("RGB", original_image.size, (0, 0, 0))
mask.paste((255, 255, 255), (128, 128, 384, 384))
mask_image = encode_image(mask).decode("utf8")
inputs = dict(prompt="building, facade, paint, windows",
              image=image,
              mask_image=mask_image,
              negative_prompt="tree, obstruction, sky, clouds",
              gen_args=json.dumps(dict(num_inference_steps=50, guidance_scale=10)))
inpaint = invoke("sd_inpaint.tar.gz", inputs)
check(inpaint.size == original_image.size, "inpaint: size %s" % (inpaint.size,))
print("inpaint", inpaint.size)

# --- Cell 4: the x4 upscaler, 128 -> 512 ---
low_res_image = output_image.convert("RGB").resize((128, 128))
inputs = dict(prompt="Infinity pool on top of a high rise overlooking Central Park",
              image=encode_image(low_res_image).decode("utf8"))
upscaled_image = invoke("sd_upscale.tar.gz", inputs)
check(upscaled_image.size == (512, 512), "upscale: size %s" % (upscaled_image.size,))
print("upscale", upscaled_image.size)

# --- SageMaker's error shapes, as botocore reads them ---
try:
    invoke("no_such_model.tar.gz", {"prompt": "x"})
    check(False, "an unknown TargetModel was served")
except runtime_sm_client.exceptions.ClientError as e:
    check(e.response["Error"]["Code"] == "ValidationError", "unknown model: %s" % e.response)
try:
    invoke("sd_base.tar.gz", {"not_an_input": "x"})
    check(False, "a request with an unknown input was served")
except runtime_sm_client.exceptions.ModelError as e:
    check(e.response["OriginalStatusCode"] == 400, "bad input: %s" % e.response)

names = [e["EndpointName"] for e in sm_client.list_endpoints()["Endpoints"]]
check(endpoint_name in names, "list_endpoints: %s" % names)
sm_client.delete_endpoint(EndpointName=endpoint_name)
names = [e["EndpointName"] for e in sm_client.list_endpoints()["Endpoints"]]
check(endpoint_name not in names, "delete_endpoint left %s" % names)
print("article cells: ok")
