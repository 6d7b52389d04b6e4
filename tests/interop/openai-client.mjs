// Uses the platform's OpenAI-compatible API (/v1) with the official `openai` Node client, as an integrator
// outside .NET would: chat (plain and streamed), models, embeddings, and an unknown model's error.
// Usage: node openai-client.mjs <base-url ending in /v1> <api-key> [model] [embedding-model]
// Prints a JSON summary; exits 1 when a shape is not what OpenAI's API returns.
import OpenAI from 'openai';

const [baseURL, apiKey, model = 'default', embeddingModel = 'text-embedding-default'] = process.argv.slice(2);
if (!baseURL || !apiKey) {
  console.error('usage: node openai-client.mjs <base-url> <api-key> [model] [embedding-model]');
  process.exit(2);
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 30_000 });
const messages = [{ role: 'user', content: 'Say hello to the interop test.' }];

try {
  const { data: completion, response } = await client.chat.completions
    .create({ model, messages })
    .withResponse();
  check(completion.object === 'chat.completion', `chat object: ${completion.object}`);
  check(typeof completion.id === 'string' && typeof completion.created === 'number', 'chat id/created');
  const choice = completion.choices[0];
  check(choice.message.role === 'assistant', `chat role: ${choice.message.role}`);
  check(typeof choice.message.content === 'string' && choice.message.content.length > 0, 'chat content');
  check(typeof choice.finish_reason === 'string', 'chat finish_reason');
  check(completion.usage.total_tokens === completion.usage.prompt_tokens + completion.usage.completion_tokens, 'chat usage');

  const stream = await client.chat.completions.create({
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
  });
  let streamed = '';
  let chunks = 0;
  let streamFinish = null;
  let streamUsage = null;
  for await (const chunk of stream) {
    chunks++;
    check(chunk.object === 'chat.completion.chunk', `chunk object: ${chunk.object}`);
    for (const c of chunk.choices) {
      streamed += c.delta?.content ?? '';
      streamFinish = c.finish_reason ?? streamFinish;
    }
    if (chunk.usage) streamUsage = chunk.usage;
  }
  check(streamed.length > 0, 'streamed content');
  check(streamFinish !== null, 'streamed finish_reason');
  check(streamUsage !== null && streamUsage.completion_tokens > 0, 'streamed usage chunk');

  const models = [];
  for await (const m of client.models.list()) {
    check(m.object === 'model' && typeof m.id === 'string' && typeof m.owned_by === 'string', `model shape: ${JSON.stringify(m)}`);
    models.push(m.id);
  }
  check(models.includes(model), `models list lacks ${model}: ${models.join(', ')}`);

  // The client asks for base64 and decodes it; a gateway that ignores encoding_format fails here.
  const embeddings = await client.embeddings.create({ model: embeddingModel, input: ['first text', 'second text'] });
  check(embeddings.object === 'list' && embeddings.data.length === 2, 'embeddings list');
  check(embeddings.data.every((e, i) => e.object === 'embedding' && e.index === i && Array.isArray(e.embedding) && e.embedding.length > 0), 'embedding shape');
  check(embeddings.usage.prompt_tokens > 0, 'embeddings usage');

  let unknown = null;
  try {
    await client.chat.completions.create({ model: 'no-such-model-from-node', messages });
  } catch (error) {
    check(error instanceof OpenAI.APIError, `unknown model threw ${error}`);
    unknown = { status: error.status, code: error.code, type: error.type, param: error.param ?? null, message: error.message };
  }
  check(unknown !== null, 'an unknown model did not fail');

  console.log(JSON.stringify({
    chat: {
      content: choice.message.content,
      finish_reason: choice.finish_reason,
      system_fingerprint: completion.system_fingerprint ?? null,
      offline: response.headers.get('x-agentplatform-offline'),
    },
    stream: { content: streamed, chunks, finish_reason: streamFinish, usage: streamUsage },
    models,
    embeddings: { count: embeddings.data.length, dimensions: embeddings.data[0].embedding.length },
    unknown,
  }));
} catch (error) {
  console.error(`failed: ${error.status ?? ''} ${error.message}`);
  process.exit(1);
}
