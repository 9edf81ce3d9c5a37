-- Headless Neovim (0.7+) end-to-end check of `startref lsp`, run by tests/lsp/test_neovim.py:
-- open the .tex file, start the server with the built-in client (vim.lsp.start_client + buf_attach_client),
-- put the cursor inside the cite, ask for completion (vim.lsp.buf_request_sync), apply the top item's edit
-- like the completion menu would, :write, and report the first labels to STARTREF_NVIM_OUT.
-- Environment: STARTREF_TEX (file), STARTREF_LINE (1-based), STARTREF_COL (0-based byte column),
-- STARTREF_CMD (the server command, space separated), STARTREF_NVIM_OUT (report file).

local function fail(msg)
  io.stderr:write('startref-nvim-test: ' .. msg .. '\n')
  vim.cmd('cquit 3')
end

local ok, err = pcall(function()
  local tex = os.getenv('STARTREF_TEX')
  local line = tonumber(os.getenv('STARTREF_LINE'))
  local col = tonumber(os.getenv('STARTREF_COL'))
  local cmd = vim.split(os.getenv('STARTREF_CMD'), ' ', { trimempty = true })
  vim.cmd('edit ' .. vim.fn.fnameescape(tex))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = 'startref',
    cmd = cmd,
    root_dir = vim.fn.fnamemodify(tex, ':h'),
  })
  if not client_id then return fail('start_client failed') end
  vim.lsp.buf_attach_client(bufnr, client_id)
  local ready = vim.wait(60000, function()
    local client = vim.lsp.get_client_by_id(client_id)
    return client ~= nil and client.server_capabilities ~= nil and client.initialized
  end, 50)
  if not ready then return fail('server did not initialize') end
  vim.api.nvim_win_set_cursor(0, { line, col })
  local params = vim.lsp.util.make_position_params()
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/completion', params, 120000)
  if not responses or not responses[client_id] then return fail('no completion response') end
  local response = responses[client_id]
  if response.err then return fail('completion error: ' .. vim.inspect(response.err)) end
  local items = response.result.items or response.result
  if #items == 0 then return fail('empty completion list') end
  table.sort(items, function(a, b) return (a.sortText or a.label) < (b.sortText or b.label) end)
  local top = items[1]
  local client = vim.lsp.get_client_by_id(client_id)
  vim.lsp.util.apply_text_edits({ top.textEdit }, bufnr, client.offset_encoding or 'utf-16')
  vim.cmd('write')
  local labels = {}
  for i = 1, math.min(5, #items) do labels[#labels + 1] = items[i].label end
  local out = io.open(os.getenv('STARTREF_NVIM_OUT'), 'w')
  out:write(table.concat(labels, '\n') .. '\n')
  out:close()
  vim.lsp.stop_client(client_id)
end)
if not ok then fail(tostring(err)) end
vim.cmd('qall!')
