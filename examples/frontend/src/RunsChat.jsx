// The `runs.stream` variant: useStream from @langchain/langgraph-sdk/react, adapted to ChatView.
import { useStream } from "@langchain/langgraph-sdk/react";
import { ChatView, textOf } from "./ChatView.jsx";

export function RunsChat({ apiUrl, assistantId }) {
  const stream = useStream({ apiUrl, assistantId, messagesKey: "messages" });
  const interrupt = stream.interrupt?.value;
  return (
    <ChatView
      protocol="runs"
      messages={toChatMessages(stream.messages)}
      isLoading={stream.isLoading}
      error={stream.error}
      interrupt={interrupt == null ? null : { question: interrupt.question ?? JSON.stringify(interrupt) }}
      onSend={(text) =>
        stream.submit({ messages: [{ type: "human", content: text }] })
      }
      onDecide={(approved) => stream.submit(undefined, { command: { resume: { approved } } })}
    />
  );
}

// LangChain messages -> what the page shows: text, and tool calls with their results.
function toChatMessages(messages) {
  const results = new Map(
    messages.filter((m) => m.type === "tool").map((m) => [m.tool_call_id, textOf(m.content)]),
  );
  return messages
    .filter((m) => m.type === "human" || m.type === "ai")
    .map((m, index) => ({
      id: m.id ?? String(index),
      role: m.type,
      text: textOf(m.content),
      toolCalls: (m.tool_calls ?? []).map((call) => ({
        id: call.id,
        name: call.name,
        args: call.args,
        result: results.get(call.id),
      })),
    }));
}
