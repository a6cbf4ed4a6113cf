// The thread-centric variant: useStream from @langchain/react (commands to
// POST /threads/{id}/commands, events from POST /threads/{id}/stream/events), adapted to ChatView.
import { useStream } from "@langchain/react";
import { useEffect, useState } from "react";
import { ChatView, toChatMessages } from "./ChatView.jsx";

export function ThreadsChat({ apiUrl, assistantId, transport }) {
  const stream = useStream({ apiUrl, assistantId, transport });
  // respond() clears the interrupt at once, but isLoading waits for the resumed run's first
  // lifecycle event: between the two the page is busy, not Ready.
  const [resuming, setResuming] = useState(false);
  useEffect(() => setResuming(false), [stream.isLoading, stream.error, stream.messages.length]);
  const interrupt = stream.interrupt?.value;
  return (
    <ChatView
      protocol="threads"
      messages={toChatMessages(stream.messages.map(plain))}
      isLoading={stream.isLoading || resuming}
      error={stream.error}
      interrupt={interrupt == null ? null : { question: interrupt.question ?? JSON.stringify(interrupt) }}
      onSend={(text) => stream.submit({ messages: [{ type: "human", content: text }] })}
      onDecide={(approved) => {
        setResuming(true);
        stream.respond({ approved }).catch(() => setResuming(false));
      }}
    />
  );
}

// @langchain/core message classes -> the plain fields toChatMessages reads.
function plain(message) {
  return {
    id: message.id,
    type: message.type ?? message.getType?.(),
    content: message.content,
    tool_calls: message.tool_calls,
    tool_call_id: message.tool_call_id,
  };
}
