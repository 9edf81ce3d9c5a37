-- Headless Neovim (0.7+) end-to-end check of `startref lsp`'s citation audit, run by tests/lsp/test_neovim.py:
-- open a .tex file holding a wrong key, start the server with the built-in client, wait until Neovim's own
-- diagnostics (vim.diagnostic.get) hold the possible mis-citation, ask for code actions with that diagnostic in the
-- context (as vim.lsp.buf.code_action() does), apply the preferred quick fix's workspace edit, :write, and report
-- the diagnostic (line, col, severity, code) and the fix's title to STARTREF_NVIM_OUT.
-- Environment: STARTREF_TEX (file), STARTREF_LINE (1-based line of the wrong key), STARTREF_CMD (server command,
-- space separated), STARTREF_NVIM_OUT (report file).

local function fail(msg)
  io.stderr:write('startref-nvim-test: ' .. msg .. '\n')
  vim.cmd('cquit 3')
end

local ok, err = pcall(function()
  local tex = os.getenv('STARTREF_TEX')
  local line = tonumber(os.getenv('STARTREF_LINE'))
  local cmd = vim.split(os.getenv('STARTREF_CMD'), ' ', { trimempty = true })
  vim.cmd('edit ' .. vim.fn.fnameescape(tex))
  local bufnr = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({ name = 'startref', cmd = cmd, root_dir = vim.fn.fnamemodify(tex, ':h') })
  if not client_id then return fail('start_client failed') end
  vim.lsp.buf_attach_client(bufnr, client_id)
  local found = nil
  local seen = vim.wait(180000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      local lsp = d.user_data and d.user_data.lsp or d
      if lsp.code == 'possible_miscitation' and d.lnum == line - 1 then
        found = d
        return true
      end
    end
    return false
  end, 100)
  if not seen then return fail('no possible_miscitation diagnostic on line ' .. line) end
  local lsp_diag = found.user_data and found.user_data.lsp
  if not lsp_diag then return fail('the diagnostic kept no LSP data') end
  vim.api.nvim_win_set_cursor(0, { line, found.col })
  local params = vim.lsp.util.make_range_params()
  -- the context vim.lsp.buf.code_action() sends in 0.7: the line's diagnostics, converted back to LSP
  params.context = { diagnostics = vim.lsp.diagnostic.get_line_diagnostics(bufnr) }
  local responses = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, 60000)
  if not responses or not responses[client_id] then
    return fail('no code action response for ' .. vim.inspect(params))
  end
  local actions = responses[client_id].result or {}
  local chosen = nil
  for _, action in ipairs(actions) do
    if action.kind == 'quickfix' and action.isPreferred then chosen = action end
  end
  if not chosen then return fail('no preferred quick fix among ' .. #actions .. ' actions') end
  local client = vim.lsp.get_client_by_id(client_id)
  vim.lsp.util.apply_workspace_edit(chosen.edit, client.offset_encoding or 'utf-16')
  vim.cmd('write')
  local out = io.open(os.getenv('STARTREF_NVIM_OUT'), 'w')
  out:write(table.concat({ tostring(found.lnum), tostring(found.col), tostring(found.severity), lsp_diag.code,
    found.source or lsp_diag.source or '', chosen.title }, '\n') .. '\n')
  out:close()
  vim.lsp.stop_client(client_id)
end)
if not ok then fail(tostring(err)) end
vim.cmd('qall!')
