// Test graphs for the JS dev server (the js-1.5.x recordings): the same shapes as
// tests/graphs/threads_*.py, with @langchain/core's FakeListChatModel (no keys, no network).

import { StateGraph, MessagesAnnotation, Annotation, START, END, interrupt, getWriter } from "@langchain/langgraph";
import { ToolNode } from "@langchain/langgraph/prebuilt";
import { tool } from "@langchain/core/tools";
import { AIMessage, ToolMessage } from "@langchain/core/messages";
import { FakeListChatModel } from "@langchain/core/utils/testing";
import { z } from "zod";

const getWeather = tool(async () => "Los Angeles: 72 degrees Fahrenheit, sunny.", {
  name: "get_weather",
  description: "Look up the current weather for a place.",
  schema: z.object({ query: z.string() }),
});

async function agentNode(state, config) {
  const last = state.messages[state.messages.length - 1];
  if (last && last._getType && last._getType() === "tool") {
    getWriter(config)?.({ progress: "answering" });
    const model = new FakeListChatModel({ responses: ["It is sunny and 72 degrees in Los Angeles today."] });
    const reply = await model.invoke(state.messages, config);
    return { messages: [reply] };
  }
  // A tool call id per turn: the JS ToolNode skips calls its thread has answered before.
  const turn = state.messages.filter((m) => (m.type ?? m._getType?.()) === "human").length;
  return {
    messages: [new AIMessage({ content: "", tool_calls: [{ name: "get_weather", args: { query: "weather in los angeles" }, id: `call_weather_${turn}`, type: "tool_call" }] })],
  };
}

export const agent = new StateGraph(MessagesAnnotation)
  .addNode("agent", agentNode)
  .addNode("tools", new ToolNode([getWeather]))
  .addEdge(START, "agent")
  .addConditionalEdges("agent", (s) => (s.messages[s.messages.length - 1].tool_calls?.length ? "tools" : END), ["tools", END])
  .addEdge("tools", "agent")
  .compile();

const AskState = Annotation.Root({ question: Annotation(), answer: Annotation() });
export const ask = new StateGraph(AskState)
  .addNode("ask", async (state) => ({ answer: interrupt({ question: state.question ?? "approve?" }) }))
  .addEdge(START, "ask")
  .compile();

export const failing = new StateGraph(AskState)
  .addNode("explode", async () => { throw new Error("boom"); })
  .addEdge(START, "explode")
  .compile();

const ResearchState = Annotation.Root({
  messages: Annotation({ reducer: (a, b) => a.concat(b), default: () => [] }),
  steps: Annotation({ reducer: (a, b) => b, default: () => [] }),
});
const research = new StateGraph(ResearchState)
  .addNode("search", async (state, config) => {
    const write = getWriter(config);
    for (let i = 0; i < 2; i++) write?.({ step: i, of: 2 });
    write?.({ found: 3 });
    const model = new FakeListChatModel({ responses: ["Found three sources."] });
    const reply = await model.invoke(state.messages, config);
    return { messages: [reply], steps: [...(state.steps ?? []), "search"] };
  })
  .addEdge(START, "search")
  .compile();
export const subgraph = new StateGraph(ResearchState)
  .addNode("research", research)
  .addNode("summarise", async (state, config) => {
    getWriter(config)?.({ summarised: true });
    return { steps: [...(state.steps ?? []), "summarise"] };
  })
  .addEdge(START, "research")
  .addEdge("research", "summarise")
  .compile();
