// The `runs.stream` variant: useStream from @langchain/langgraph-sdk/react, adapted to ChatView.
import { useStream } from "@langchain/langgraph-sdk/react";
import { ChatView, toChatMessages } from "./ChatView.jsx";

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
