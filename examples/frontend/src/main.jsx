// The page's settings come from its query string, so a test can point it anywhere:
//   ?apiUrl=http://127.0.0.1:2024&assistantId=agent&protocol=runs
//   apiUrl       the LangGraph server (default: /api on the page's own origin)
//   assistantId  the graph or assistant to run (default: agent)
//   protocol     runs: useStream from @langchain/langgraph-sdk/react (`runs.stream`)
//                threads: useStream from @langchain/react (the thread-centric protocol)
//   transport    threads only: sse (default) or websocket
import { createRoot } from "react-dom/client";
import { RunsChat } from "./RunsChat.jsx";
import { ThreadsChat } from "./ThreadsChat.jsx";
import "./style.css";

const params = new URLSearchParams(window.location.search);
const settings = {
  apiUrl: params.get("apiUrl") ?? new URL("/api", window.location.href).href,
  assistantId: params.get("assistantId") ?? "agent",
  protocol: params.get("protocol") ?? "runs",
  transport: params.get("transport") ?? "sse",
};

const VARIANTS = { runs: RunsChat, threads: ThreadsChat };

function App() {
  const Chat = VARIANTS[settings.protocol];
  if (Chat == null) {
    return (
      <p role="alert" data-testid="error">
        Unknown protocol {JSON.stringify(settings.protocol)}: use one of {Object.keys(VARIANTS).join(", ")}.
      </p>
    );
  }
  return <Chat apiUrl={settings.apiUrl} assistantId={settings.assistantId} transport={settings.transport} />;
}

createRoot(document.getElementById("root")).render(<App />);
