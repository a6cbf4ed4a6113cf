// What the user sees, whatever protocol feeds it: messages as they stream, tool calls with
// their results, an interrupt asking for approval, errors. Every variant renders this view.
import { useState } from "react";

export function textOf(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === "string" ? part : part?.text ?? "")).join("");
  }
  return "";
}

// LangChain messages -> what the page shows: text, and tool calls with their results.
export function toChatMessages(messages) {
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

function errorText(error) {
  if (error == null) return null;
  if (typeof error === "string") return error;
  return error.message ? `${error.name ?? "Error"}: ${error.message}` : JSON.stringify(error);
}

export function ChatView({ protocol, messages, isLoading, error, interrupt, onSend, onDecide }) {
  const [draft, setDraft] = useState("");
  const failure = errorText(error);
  const send = (event) => {
    event.preventDefault();
    if (!draft.trim()) return;
    onSend(draft);
    setDraft("");
  };
  return (
    <main data-protocol={protocol}>
      <h1>Support chat</h1>
      <p data-testid="status" className="status">
        {isLoading ? "Streaming…" : interrupt ? "Waiting for your approval" : "Ready"}
      </p>
      <ol className="messages" data-testid="messages">
        {messages.map((message) => (
          <li key={message.id} className={message.role} data-testid={`${message.role}-message`}>
            <span className="who">{message.role === "human" ? "You" : "Agent"}</span>
            {message.text && <p className="text">{message.text}</p>}
            {message.toolCalls.map((call) => (
              <div key={call.id} className="tool-call" data-testid="tool-call">
                <code>
                  {call.name}({JSON.stringify(call.args)})
                </code>
                {call.result != null && (
                  <p className="tool-result" data-testid="tool-result">
                    {call.result}
                  </p>
                )}
              </div>
            ))}
          </li>
        ))}
      </ol>
      {interrupt && !isLoading && (
        <section className="interrupt" data-testid="interrupt" aria-label="Approval needed">
          <p>{interrupt.question}</p>
          <button type="button" onClick={() => onDecide(true)}>
            Approve
          </button>
          <button type="button" onClick={() => onDecide(false)}>
            Reject
          </button>
        </section>
      )}
      {failure && (
        <p className="error" role="alert" data-testid="error">
          {failure}
        </p>
      )}
      <form onSubmit={send}>
        <input
          aria-label="Message"
          value={draft}
          placeholder="Ask the agent…"
          onChange={(event) => setDraft(event.target.value)}
          disabled={isLoading}
        />
        <button type="submit" disabled={isLoading}>
          Send
        </button>
      </form>
    </main>
  );
}
