// ONNX files carry their class names and input size in ModelProto.metadata_props (field 14:
// StringStringEntryProto {key = 1, value = 2}). onnxruntime-web does not expose them, so we read the
// protobuf's top level ourselves: a few varints, skipping the graph without decoding it.

const METADATA_PROPS = 14;
const decoder = new TextDecoder();

function reader(bytes) {
  let pos = 0;
  const varint = () => {
    let value = 0, scale = 1, byte;
    do {
      if (pos >= bytes.length) throw new Error("truncated ONNX file");
      byte = bytes[pos++];
      value += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return value;
  };
  return {
    done: () => pos >= bytes.length,
    /** The next field: [number, wire type, bytes of a length-delimited field or null]. */
    field() {
      const tag = varint(), number = Math.floor(tag / 8), wire = tag & 7;
      if (wire === 0) varint();
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else if (wire === 2) {
        const length = varint(), start = pos;
        pos += length;
        if (pos > bytes.length) throw new Error("truncated ONNX file");
        return [number, wire, bytes.subarray(start, pos)];
      } else throw new Error(`unsupported protobuf wire type ${wire}`);
      return [number, wire, null];
    },
  };
}

/** {key: value} of an ONNX file's metadata_props. */
export function onnxMetadata(buffer) {
  const model = reader(new Uint8Array(buffer)), props = {};
  while (!model.done()) {
    const [number, , body] = model.field();
    if (number !== METADATA_PROPS || !body) continue;
    const entry = reader(body);
    let key = "", value = "";
    while (!entry.done()) {
      const [n, , text] = entry.field();
      if (n === 1 && text) key = decoder.decode(text);
      if (n === 2 && text) value = decoder.decode(text);
    }
    props[key] = value;
  }
  return props;
}
