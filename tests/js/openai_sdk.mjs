// The official `openai` JavaScript package against mockllm. Prints one JSON object with
// what the client saw; tests/clients/test_js_clients.py asserts on it.
import OpenAI from "openai";

const client = new OpenAI({ baseURL: process.env.MOCKLLM_OPENAI_URL, apiKey: "x", maxRetries: 0 });
const out = {};

async function attempt(name, fn) {
  try {
    out[name] = await fn();
  } catch (err) {
    out[name] = { error: String(err) };
  }
}

await attempt("chat", async () => {
  const reply = await client.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: "what colour is the sky?" }],
  });
  return { content: reply.choices[0].message.content, usage: reply.usage, id: reply.id };
});

await attempt("stream", async () => {
  const stream = await client.chat.completions.create({
    model: "gpt-4o",
    messages: [{ role: "user", content: "what colour is the sky?" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces = [];
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.choices.length) pieces.push(chunk.choices[0].delta.content ?? "");
    if (chunk.usage) usage = chunk.usage;
  }
  return { text: pieces.join(""), chunks: pieces.length, usage };
});

await attempt("tool", async () => {
  const runner = client.chat.completions.stream({
    model: "gpt-4o",
    messages: [{ role: "user", content: "what is the weather in Paris?" }],
    tools: [{ type: "function", function: { name: "get_weather", parameters: {
      type: "object", properties: { city: { type: "string" } }, required: ["city"] } } }],
  });
  const final = await runner.finalChatCompletion();
  const call = final.choices[0].message.tool_calls[0];
  return { name: call.function.name, arguments: JSON.parse(call.function.arguments),
           finish: final.choices[0].finish_reason, role: final.choices[0].message.role };
});

try {
  await client.chat.completions.create({ model: "gpt-4o", messages: [] });
  out.error = null;
} catch (err) {
  out.error = { status: err.status, code: err.code, type: err.type, name: err.constructor.name };
}

await attempt("responses", async () => {
  const response = await client.responses.create({ model: "gpt-4o", input: "what colour is the sky?" });
  const events = [];
  const rstream = client.responses.stream({ model: "gpt-4o", input: "what colour is the sky?" });
  for await (const event of rstream) events.push(event.type);
  const done = await rstream.finalResponse();
  // output_text is a convenience of the SDK, not a wire field: join the output_text parts.
  const streamText = done.output
    .filter((item) => item.type === "message")
    .flatMap((item) => item.content)
    .filter((part) => part.type === "output_text")
    .map((part) => part.text)
    .join("");
  return { text: response.output_text, stream_text: streamText, events };
});

await attempt("embedding", async () => {
  const embedding = await client.embeddings.create({ model: "text-embedding-3-small", input: "hello world" });
  return { length: embedding.data[0].embedding.length, tokens: embedding.usage.prompt_tokens };
});

console.log(JSON.stringify(out));
