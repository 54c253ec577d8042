// The Vercel AI SDK (`ai` with `@ai-sdk/openai` and `@ai-sdk/anthropic`) against mockllm.
// `openai(model)` calls the Responses API, `openai.chat(model)` Chat Completions.
import { generateText, streamText, generateObject, tool, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { z } from "zod";

const openai = createOpenAI({ baseURL: process.env.MOCKLLM_OPENAI_URL, apiKey: "x" });
const anthropic = createAnthropic({ baseURL: process.env.MOCKLLM_OPENAI_URL, apiKey: "x" });
const out = {};

async function attempt(name, fn) {
  try {
    out[name] = await fn();
  } catch (err) {
    out[name] = { error: String(err), cause: String(err?.cause ?? ""), data: err?.responseBody ?? null };
  }
}

const weather = tool({
  description: "Weather in a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

await attempt("responses_text", async () => {
  const r = await generateText({ model: openai("gpt-4o"), prompt: "what colour is the sky?" });
  return { text: r.text, finish: r.finishReason, usage: r.usage };
});
await attempt("responses_stream", async () => {
  const r = streamText({ model: openai("gpt-4o"), prompt: "what colour is the sky?" });
  const parts = [];
  for await (const part of r.textStream) parts.push(part);
  return { text: parts.join(""), chunks: parts.length, finish: await r.finishReason };
});
await attempt("chat_text", async () => {
  const r = await generateText({ model: openai.chat("gpt-4o"), prompt: "what colour is the sky?" });
  return { text: r.text, finish: r.finishReason };
});
await attempt("chat_stream", async () => {
  const r = streamText({ model: openai.chat("gpt-4o"), prompt: "what colour is the sky?" });
  const parts = [];
  for await (const part of r.textStream) parts.push(part);
  return { text: parts.join(""), finish: await r.finishReason };
});
await attempt("responses_tools", async () => {
  const r = await generateText({
    model: openai("gpt-4o"), prompt: "what is the weather in Paris?",
    tools: { get_weather: weather }, stopWhen: stepCountIs(3),
  });
  return { text: r.text, steps: r.steps.length,
           calls: r.steps.flatMap((s) => s.toolCalls.map((c) => [c.toolName, c.input])) };
});
await attempt("chat_tools", async () => {
  const r = await generateText({
    model: openai.chat("gpt-4o"), prompt: "what is the weather in Paris?",
    tools: { get_weather: weather }, stopWhen: stepCountIs(3),
  });
  return { text: r.text, steps: r.steps.length,
           calls: r.steps.flatMap((s) => s.toolCalls.map((c) => [c.toolName, c.input])) };
});
await attempt("object", async () => {
  const r = await generateObject({
    model: openai("gpt-4o"), prompt: "describe a city",
    schema: z.object({ name: z.string(), population: z.number().int().min(0), tags: z.array(z.string()) }),
  });
  return { object: r.object };
});
await attempt("anthropic_text", async () => {
  const r = await generateText({ model: anthropic("claude-opus-4-6"), prompt: "what colour is the sky?" });
  return { text: r.text, finish: r.finishReason };
});
await attempt("anthropic_stream", async () => {
  const r = streamText({ model: anthropic("claude-opus-4-6"), prompt: "what colour is the sky?" });
  const parts = [];
  for await (const part of r.textStream) parts.push(part);
  return { text: parts.join(""), finish: await r.finishReason };
});

console.log(JSON.stringify(out));
